"""The client's lookups after a create that may have been processed: `tune_find` by title and
`prompt_find` by callback, newest first, bounded by when our first send was made.

Everything goes through the sandbox over HTTP; the walk's length is read from its request log.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from django.utils import timezone

from astria.client import AstriaClient, ImageFile
from astria.schemas import PromptCreate, Tune, TuneCreate
from tests.images import photo_bytes

FLUX = 1504944
PAGE = 120  # the client's page size, Astria's largest
PHOTO = ImageFile("a.jpg", photo_bytes((64, 64)))


def tune_make(client: AstriaClient, title: str) -> Tune:
    return client.tune_create(
        TuneCreate(title=title, name="woman", base_tune_id=FLUX, model_type="lora"),
        images=[PHOTO],
    )


def tunes_make(client: AstriaClient, count: int, prefix: str = "older") -> None:
    for n in range(count):
        tune_make(client, f"{prefix} {n}")


def moment() -> datetime:
    """Now, with a little room either side: Astria's timestamps have milliseconds."""
    time.sleep(0.005)
    now = timezone.now()
    time.sleep(0.005)
    return now


def gets_of(sandbox, path: str, *, after: int) -> int:
    return sum(
        1
        for r in sandbox.requests_log()
        if r["id"] > after and r["method"] == "GET" and r["path"] == path
    )


def last_request(sandbox) -> int:
    return max((r["id"] for r in sandbox.requests_log()), default=0)


# --- tune_find --------------------------------------------------------------------------------


def test_it_finds_a_tune_by_its_exact_title(sandbox):
    client = sandbox.client()
    since = moment()
    wanted = tune_make(client, "Ann - 0b7e4c1e")
    tune_make(client, "Ann - 0b7e4c1e - longer")
    tune_make(client, "someone else")

    found = client.tune_find("Ann - 0b7e4c1e", created_after=since)

    assert found is not None
    assert (found.id, found.title) == (wanted.id, "Ann - 0b7e4c1e")


def test_it_finds_no_tune_that_is_not_there(sandbox):
    client = sandbox.client()
    since = moment()
    tune_make(client, "Ann - 0b7e4c1e - longer")

    assert client.tune_find("Ann - 0b7e4c1e", created_after=since) is None
    assert client.tune_find("Ann", created_after=since) is None


def test_it_stops_at_the_first_tune_older_than_ours(sandbox):
    client = sandbox.client()
    tunes_make(client, PAGE + 5)  # more than a page, all from before our send
    since = moment()
    ours = tune_make(client, f"Ann - {uuid.uuid4()}")
    before = last_request(sandbox)

    assert client.tune_find("never sent", created_after=since) is None
    assert gets_of(sandbox, "/tunes", after=before) == 1
    found = client.tune_find(ours.title or "", created_after=since)
    assert found is not None and found.id == ours.id
    assert gets_of(sandbox, "/tunes", after=before) == 2
    # Unbounded, the same miss reads 120, then 6, then the empty page that says "no more".
    everything = datetime.min.replace(tzinfo=UTC)
    assert client.tune_find("never sent", created_after=everything) is None
    assert gets_of(sandbox, "/tunes", after=before) == 2 + 3


def test_it_pages_back_to_a_tune_older_than_the_first_page(sandbox):
    client = sandbox.client()
    since = moment()
    ours = tune_make(client, f"Ann - {uuid.uuid4()}")
    tunes_make(client, PAGE + 1, prefix="newer")
    before = last_request(sandbox)

    found = client.tune_find(ours.title or "", created_after=since)

    assert found is not None and found.id == ours.id
    assert gets_of(sandbox, "/tunes", after=before) == 2


# --- prompt_find ------------------------------------------------------------------------------


def callback(loopback, code: str) -> str:
    # As the portal's: the prompt's code in the path, a secret in the query string (which the
    # sandbox, like a careful Astria, does not show back).
    return f"{loopback.url}/callbacks/prompt/{code}/?secret=s3cr3t"


def prompts_make(client: AstriaClient, loopback, lora: Tune, codes: list[str]) -> list[int]:
    return [
        client.prompt_create(
            FLUX,
            PromptCreate(
                text=f"<lora:{lora.id}:1> ohwx woman, portrait {code}",
                num_images=1,
                callback=callback(loopback, code),
            ),
        ).id
        for code in codes
    ]


def lora_untrained(sandbox, client: AstriaClient) -> Tune:
    """A LoRA that stays in training, so that prompts on it wait (and render nothing)."""
    sandbox.configure(train_seconds=0, generate_seconds=0, never_train=True)
    return tune_make(client, f"Ann - {uuid.uuid4()}")


def test_it_finds_a_prompt_by_the_code_in_its_callback(sandbox, loopback):
    client = sandbox.client()
    lora = lora_untrained(sandbox, client)
    since = moment()
    codes = [str(uuid.uuid4()) for _ in range(3)]
    ids = prompts_make(client, loopback, lora, codes)

    found = client.prompt_find(FLUX, callback_contains=codes[1], created_after=since)

    assert found is not None
    assert found.id == ids[1]
    assert found.callback == f"{loopback.url}/callbacks/prompt/{codes[1]}/"


def test_it_finds_no_prompt_that_is_not_there(sandbox, loopback):
    client = sandbox.client()
    lora = lora_untrained(sandbox, client)
    since = moment()
    prompts_make(client, loopback, lora, [str(uuid.uuid4())])

    missing = str(uuid.uuid4())
    assert client.prompt_find(FLUX, callback_contains=missing, created_after=since) is None


def test_it_stops_at_the_first_prompt_older_than_ours(sandbox, loopback):
    client = sandbox.client()
    lora = lora_untrained(sandbox, client)
    prompts_make(client, loopback, lora, [f"older-{n}" for n in range(PAGE + 5)])
    since = moment()
    code = str(uuid.uuid4())
    ours = prompts_make(client, loopback, lora, [code])[0]
    before = last_request(sandbox)
    path = f"/tunes/{FLUX}/prompts"

    missing = str(uuid.uuid4())
    assert client.prompt_find(FLUX, callback_contains=missing, created_after=since) is None
    assert gets_of(sandbox, path, after=before) == 1
    found = client.prompt_find(FLUX, callback_contains=code, created_after=since)
    assert found is not None and found.id == ours
    assert gets_of(sandbox, path, after=before) == 2


def test_it_pages_back_to_a_prompt_older_than_the_first_page(sandbox, loopback):
    client = sandbox.client()
    lora = lora_untrained(sandbox, client)
    since = moment()
    code = str(uuid.uuid4())
    ours = prompts_make(client, loopback, lora, [code])[0]
    prompts_make(client, loopback, lora, [f"newer-{n}" for n in range(PAGE + 1)])
    before = last_request(sandbox)

    found = client.prompt_find(FLUX, callback_contains=code, created_after=since)

    assert found is not None and found.id == ours
    assert gets_of(sandbox, f"/tunes/{FLUX}/prompts", after=before) == 2
