"""The smoke test of whatever Astria is configured: one small tune and one prompt, end to end.

It trains on a few Pillow-made pictures sent as file parts (so Astria needs no URL of ours),
polls instead of waiting for callbacks (so no public address is needed either), copies the
first result through the portal's own copier (the image-host allow-list included), and deletes
what it made. With ASTRIA_BRANCH=fast a real account is charged nothing: Astria's mock branch
trains nothing and answers with mock images.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from PIL import Image, ImageDraw

from astria.client import AstriaClient, ImageFile
from astria.errors import AstriaError
from astria.origins import origin_of
from astria.schemas import Prompt, PromptCreate, Tune, TuneCreate
from tunes.ingest import IngestError, result_fetch

T = TypeVar("T")
TRAINING_PHOTOS = 4
PHOTO_SIZE = (768, 1024)  # Astria wants at least 512 px a side
TOKEN = "ohwx"  # the trigger word (Astria's default), not a secret  # noqa: S105


class SmokeFailed(Exception):
    """A step of the smoke test that did not succeed, and what went wrong."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


class StepError(Exception):
    """What ends a step without a failed call: a wait that ran out, a prompt's user_error."""


@dataclass(frozen=True)
class SmokePlan:
    """What to run: on which base tune, branch and class, and how long and often to poll."""

    base_tune_id: int
    branch: str = ""
    preset: str | None = None
    subject_class: str = "man"
    timeout: float = 300
    poll_seconds: float = 5


@dataclass
class StepClock:
    """Runs named steps, telling `say` each one's outcome and the time since the start."""

    say: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)

    def line(self, step: str, detail: str) -> None:
        self.say(f"{time.monotonic() - self.started:7.1f} s  {step}: {detail}")

    def run(self, step: str, call: Callable[[], T], shown: Callable[[T], str]) -> T:
        """`call()`, or SmokeFailed naming the step on an Astria error, a copy refused, a wait
        that ran out or a user_error."""
        try:
            result = call()
        except (AstriaError, IngestError, StepError) as exc:
            self.line(step, f"FAILED ({exc})")
            raise SmokeFailed(step, str(exc)) from exc
        self.line(step, shown(result))
        return result


def training_photos() -> list[ImageFile]:
    """A few distinct JPEGs: a gradient and an oval each, nobody's face."""
    photos = []
    for n in range(TRAINING_PHOTOS):
        image = Image.new("RGB", PHOTO_SIZE, (40 + 50 * n, 90, 160 - 30 * n))
        w, h = PHOTO_SIZE
        ImageDraw.Draw(image).ellipse(
            [w * 0.3, h * 0.2, w * 0.7, h * 0.65], fill=(224, 172, 140), outline=(60, 40, 30)
        )
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        photos.append(ImageFile(f"smoke-{n}.jpg", out.getvalue()))
    return photos


def poll(fetch: Callable[[], T], done: Callable[[T], bool], *, plan: SmokePlan, what: str) -> T:
    """GET until `done`, every `plan.poll_seconds`, for at most `plan.timeout` seconds."""
    deadline = time.monotonic() + plan.timeout
    while True:
        found = fetch()
        if done(found):
            return found
        if time.monotonic() + plan.poll_seconds > deadline:
            raise StepError(f"{what} after {plan.timeout:g} s (--timeout)")
        time.sleep(plan.poll_seconds)


def smoke_run(*, client: AstriaClient, plan: SmokePlan, say: Callable[[str], None]) -> None:
    """Create a tune, wait until it is trained, prompt it on the base tune, wait for the
    images, copy the first, then delete the prompt and the tune (after a failure too).
    Raises SmokeFailed naming the first step that failed."""
    clock = StepClock(say)
    branch = plan.branch or "Astria's default"
    say(f"Astria at {client.base_url}, branch {branch}")
    tune = clock.run(
        "create tune",
        lambda: client.tune_create(_tune(plan), images=training_photos()),
        lambda t: f"tune {t.id}",
    )
    prompts: list[Prompt] = []
    try:
        _shoot(client, clock, plan, tune=tune, prompts=prompts)
    except BaseException:
        _clean_up(client, clock, tune=tune, prompts=prompts, strict=False)
        raise
    _clean_up(client, clock, tune=tune, prompts=prompts, strict=True)


def _shoot(
    client: AstriaClient, clock: StepClock, plan: SmokePlan, *, tune: Tune, prompts: list[Prompt]
) -> None:
    """Training, one prompt and its first image; the prompt made is added to `prompts`."""
    clock.run(
        "train",
        lambda: poll(
            lambda: client.tune_get(tune.id), lambda t: t.is_trained, plan=plan, what="not trained"
        ),
        lambda t: f"trained, expires {t.expires_at:%Y-%m-%d}" if t.expires_at else "trained",
    )
    prompt = clock.run(
        "create prompt",
        lambda: client.prompt_create(plan.base_tune_id, _prompt(tune, plan)),
        lambda p: f"prompt {p.id} on base tune {plan.base_tune_id}",
    )
    prompts.append(prompt)
    done = clock.run(
        "generate", lambda: _generated(client, prompt, plan), lambda p: f"{len(p.images)} image(s)"
    )
    url = done.images[0]
    clock.run(
        "fetch image",
        lambda: result_fetch(url),
        lambda f: f"{f.width}×{f.height} from {_origin(url)}",
    )


def _tune(plan: SmokePlan) -> TuneCreate:
    return TuneCreate(
        title=f"astria-smoke {uuid.uuid4()}",
        name=plan.subject_class,
        base_tune_id=plan.base_tune_id,
        model_type="lora",
        preset=plan.preset or None,
        token=TOKEN,
        branch=plan.branch or None,
    )


def _prompt(tune: Tune, plan: SmokePlan) -> PromptCreate:
    return PromptCreate(
        text=f"<lora:{tune.id}:1> {TOKEN} {plan.subject_class}, a studio portrait, soft light",
        num_images=1,
    )


def _generated(client: AstriaClient, prompt: Prompt, plan: SmokePlan) -> Prompt:
    found = poll(
        lambda: client.prompt_get(plan.base_tune_id, prompt.id),
        lambda p: p.is_done or p.is_failed,
        plan=plan,
        what="no images",
    )
    if found.is_failed:
        raise StepError(f"the prompt ended with user_error: {found.user_error}")
    return found


def _origin(url: str) -> str:
    # Never the whole URL: a signed storage link carries its signature in the query string.
    origin = origin_of(url)
    return str(origin) if origin else "an unreadable URL"


def _clean_up(
    client: AstriaClient, clock: StepClock, *, tune: Tune, prompts: list[Prompt], strict: bool
) -> None:
    """Delete what the run made. After a failure (`strict` off) that failure is the one
    reported, so a deletion failing then is only told."""
    steps: list[tuple[str, Callable[[], None]]] = [
        *(("delete prompt", lambda p=p: client.prompt_delete(p.id)) for p in prompts),
        ("delete tune", lambda: client.tune_delete(tune.id)),
    ]
    for step, call in steps:
        try:
            clock.run(step, call, lambda _: "done")
        except SmokeFailed:
            if strict:
                raise
