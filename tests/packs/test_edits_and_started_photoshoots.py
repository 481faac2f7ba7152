"""A creative edits a pack while a customer's photoshoot of it is training: the photoshoot
sends Astria the prompts as they were when it started."""

from __future__ import annotations

from django.utils import timezone

from sandbox.models import SandboxTune
from tests.admin_forms import admin_form_data
from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.tunes.conftest import funded_owner, pack, portal, ready_selfie_set, start  # noqa: F401
from tunes.services import overdue_poll


def test_editing_a_pack_never_changes_a_started_tune(
    portal,  # noqa: F811
    funded_owner,  # noqa: F811
    pack,  # noqa: F811
    creative,
    client,
    settings,
):
    settings.POLL_AFTER_SECONDS = 0
    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "training"

    client.force_login(creative)
    url = f"/admin/packs/pack/{pack.pk}/change/"
    data = admin_form_data(client.get(url))
    for key in [k for k in data if k.endswith("-template")]:
        data[key] = "{subject} on the moon"
    assert client.post(url, data).status_code == 302
    assert set(pack.prompts.values_list("template", flat=True)) == {"{subject} on the moon"}

    # Training ends (its callback lost); the poller finds it and the scenes are sent.
    SandboxTune.objects.filter(pk=tune.astria_id).update(trained_at=timezone.now())
    portal.configure(train_seconds=0, generate_seconds=0)
    overdue_poll()
    tune.refresh_from_db()
    assert tune.status == "ready", tune.failure_reason
    sent = [p.text for p in portal.client().prompts_list(settings.FLUX_BASE_TUNE_ID)]
    assert len(sent) == 3
    assert not [text for text in sent if "moon" in text]
    assert f"<lora:{tune.astria_id}:1> ohwx woman in a navy suit" in sent
