"""The sandbox's knobs: timers and injected faults, kept in one database row.

Set over HTTP (`PUT /sandbox/astria/_sandbox/config`, with the sandbox key) so that the web
process, the worker and the tests share them. Example:

    {"train_seconds": 0, "generate_seconds": 0,
     "faults": [{"method": "POST", "path": "^/tunes$", "status": 504, "times": 1}],
     "callbacks": {"drop": 0.3, "duplicate": 0.1, "delay": 2, "reorder": 5},
     "prompt_user_error": 0.5, "never_train": false,
     "idempotent_titles": false, "idempotent_prompts": false}

Not knobs but actions, on the same key: `POST /sandbox/astria/_sandbox/tunes/<id>/expire` makes a
trained tune 31 days old, so that it has expired.
"""

from __future__ import annotations

import random
import re
from typing import Literal

from django.conf import settings
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .models import SandboxControl


class Fault(BaseModel):
    """Requests matching `method` and `path` (a regex on the path below /sandbox/astria) are
    slowed by `delay` seconds, then answered with `status` instead of their own answer. 500 and
    429 change nothing; 504 answers after the request has been processed and saved, as Astria's
    gateway does. With `after`, the delay comes once the request has been processed and saved:
    a client whose read timeout is shorter loses the answer to a create that was done, as when
    a connection breaks after sending. `times` limits how many requests it hits (None: every
    one); `rate` is the chance that it hits one."""

    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    path: str = ".*"
    status: Literal[429, 500, 504] | None = None
    delay: float = Field(default=0, ge=0, le=120)
    after: bool = False
    times: int | None = Field(default=None, ge=0)
    rate: float = Field(default=1, ge=0, le=1)

    @field_validator("path")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"path is not a regular expression: {exc}") from None
        return value

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and re.search(self.path, path) is not None


class CallbackFaults(BaseModel):
    """Astria's callbacks, made worse: `drop` and `duplicate` are chances per callback, `delay`
    adds seconds to every one and `reorder` adds a random 0…reorder seconds to each, so that
    later ones overtake earlier ones."""

    model_config = ConfigDict(extra="forbid")

    drop: float = Field(default=0, ge=0, le=1)
    duplicate: float = Field(default=0, ge=0, le=1)
    delay: float = Field(default=0, ge=0, le=600)
    reorder: float = Field(default=0, ge=0, le=600)

    def delivery_delays(self) -> list[float]:
        """The countdowns at which to send one callback: none (dropped), one, or two."""
        if random.random() < self.drop:  # noqa: S311 - a test knob, not cryptography
            return []
        copies = 2 if random.random() < self.duplicate else 1  # noqa: S311
        return [self.delay + random.uniform(0, self.reorder) for _ in range(copies)]  # noqa: S311


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    train_seconds: float | None = Field(default=None, ge=0)
    generate_seconds: float | None = Field(default=None, ge=0)
    faults: list[Fault] = Field(default_factory=list)
    callbacks: CallbackFaults = Field(default_factory=CallbackFaults)
    prompt_user_error: float = Field(default=0, ge=0, le=1)
    # Prompts whose text contains this end with user_error, whatever the chance above.
    prompt_user_error_match: str | None = None
    never_train: bool = False
    # Astria's account idempotency, off on a fresh account (CONTRACT §2, §4): with titles on, a
    # tune create whose title exists returns that tune; with prompts on, a prompt create whose
    # attributes all match one of the account's prompts returns that prompt. Off, every create
    # is a new (and, at Astria, a paid) object.
    idempotent_titles: bool = False
    idempotent_prompts: bool = False

    @property
    def train_delay(self) -> float:
        if self.train_seconds is None:
            return settings.ASTRIA_SANDBOX_TRAIN_SECONDS
        return self.train_seconds

    @property
    def generate_delay(self) -> float:
        if self.generate_seconds is None:
            return settings.ASTRIA_SANDBOX_GENERATE_SECONDS
        return self.generate_seconds

    def prompt_fails(self, text: str) -> bool:
        if self.prompt_user_error_match and self.prompt_user_error_match in text:
            return True
        return random.random() < self.prompt_user_error  # noqa: S311


def config_get() -> SandboxConfig:
    row = SandboxControl.objects.filter(pk=1).first()
    return SandboxConfig.model_validate(row.config if row else {})


def config_set(config: SandboxConfig) -> None:
    SandboxControl.objects.update_or_create(pk=1, defaults={"config": config.model_dump()})


@transaction.atomic
def fault_take(method: str, path: str) -> Fault | None:
    """The fault that hits this request, if any; a fault with `times` is used up one by one."""
    row = SandboxControl.objects.select_for_update().filter(pk=1).first()
    if row is None:
        return None
    config = SandboxConfig.model_validate(row.config)
    for fault in config.faults:
        if fault.times == 0 or not fault.matches(method, path):
            continue
        if random.random() >= fault.rate:  # noqa: S311
            continue
        if fault.times is not None:
            fault.times -= 1
            row.config = config.model_dump()
            row.save(update_fields=["config", "updated_at"])
        return fault
    return None
