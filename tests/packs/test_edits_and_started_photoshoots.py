"""A creative edits a pack while a customer's photoshoot of it waits for its model: the
photoshoot sends Astria the prompts as they were when it started; one started after the edit
sends the new ones, on the same model."""

from __future__ import annotations

from django.utils import timezone

from sandbox.models import SandboxTune
from tests.admin_forms import admin_form_data
from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.tunes.conftest import funded_owner, pack, portal, ready_selfie_set, start  # noqa: F401
from tunes.sweep import overdue_poll


def test_editing_a_pack_never_changes_a_started_photoshoot(
    portal,  # noqa: F811
    funded_owner,  # noqa: F811
    pack,  # noqa: F811
    creative,
    client,
    settings,
):
    settings.POLL_AFTER_SECONDS = 0
    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    selfie_set = ready_selfie_set(funded_owner)
    photoshoot = start(funded_owner, selfie_set, pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "training"

    client.force_login(creative)
    url = f"/admin/packs/pack/{pack.pk}/change/"
    data = admin_form_data(client.get(url))
    for key in [k for k in data if k.endswith("-template")]:
        data[key] = "{subject} on the moon"
    assert client.post(url, data).status_code == 302
    assert set(pack.prompts.values_list("template", flat=True)) == {"{subject} on the moon"}

    # Training ends (its callback lost); the poller finds it and the scenes are sent.
    model = photoshoot.model
    SandboxTune.objects.filter(pk=model.astria_id).update(trained_at=timezone.now())
    portal.configure(train_seconds=0, generate_seconds=0)
    overdue_poll()
    photoshoot.refresh_from_db()
    assert photoshoot.model.status == "ready"
    assert photoshoot.status == "ready", photoshoot.failure_reason
    sent = [p.text for p in portal.client().prompts_list(settings.FLUX_BASE_TUNE_ID)]
    assert len(sent) == 3
    assert not [text for text in sent if "moon" in text]
    assert f"<lora:{model.astria_id}:1> ohwx woman in a navy suit" in sent

    # The same pack started again now runs the edited scenes, on the trained model.
    again = start(funded_owner, selfie_set, pack)
    again.refresh_from_db()
    assert again.status == "ready", again.failure_reason
    assert again.model_id == model.pk and not again.with_training
    texts = list(again.prompts.values_list("text", flat=True))
    assert texts == [f"<lora:{model.astria_id}:1> ohwx woman on the moon"] * 3
