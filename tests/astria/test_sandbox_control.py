from __future__ import annotations

import random

import pytest

from sandbox.control import CallbackFaults, Fault, SandboxConfig, config_set, fault_take


def test_reorder_spreads_callbacks_over_the_window_so_later_ones_can_overtake():
    random.seed(7)
    delays = [CallbackFaults(reorder=5).delivery_delays()[0] for _ in range(200)]
    assert all(0 <= d <= 5 for d in delays)
    # Two callbacks sent one second apart arrive in the other order often enough to matter.
    overtaken = sum(a > b + 1 for a, b in zip(delays[::2], delays[1::2], strict=True))
    assert overtaken > 10


def test_drop_and_duplicate_decide_how_many_copies_are_sent():
    assert CallbackFaults(drop=1).delivery_delays() == []
    assert CallbackFaults(duplicate=1, delay=2).delivery_delays() == [2, 2]
    assert CallbackFaults().delivery_delays() == [0]


@pytest.mark.django_db
def test_a_fault_with_times_is_used_up():
    config_set(SandboxConfig(faults=[Fault(method="POST", path="^/tunes$", status=500, times=2)]))
    hits = [fault_take("POST", "/tunes") for _ in range(3)]
    assert [f and f.status for f in hits] == [500, 500, None]
    assert fault_take("GET", "/tunes") is None


@pytest.mark.django_db
def test_timers_default_to_settings(settings):
    settings.ASTRIA_SANDBOX_TRAIN_SECONDS = 11
    assert SandboxConfig().train_delay == 11
    assert SandboxConfig(train_seconds=0).train_delay == 0
