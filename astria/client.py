"""The one Astria client: typed calls over one HTTP session, with a timeout on every call.

It never retries: a POST repeated blindly can train a second model or charge twice, so the
caller (a Celery task) decides, from `AstriaError.permanent` and `may_have_been_processed`.
The API key travels only in the Authorization header and never appears in a log or an error.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

import requests
from django.core.signals import setting_changed
from django.dispatch import Signal
from pydantic import BaseModel, ValidationError
from urllib3.exceptions import NameResolutionError, NewConnectionError

from .errors import AstriaError
from .schemas import ImageInspection, Prompt, PromptCreate, Tune, TuneCreate

logger = logging.getLogger(__name__)

ASTRIA_BASE_URL = "https://api.astria.ai"
PAGE_LIMIT = 120  # Astria's largest page
MESSAGE_LIMIT = 300
URL_QUERY = re.compile(r"(https?://[^\s?#\"']+)[?#][^\s\"']*")
Model = TypeVar("Model", bound=BaseModel)

# Sent after every call, whatever its outcome, with `method`, `path`, `status` (None: no
# answer), `elapsed_ms` and `error` (AstriaError's message, or ""): for whoever keeps a record.
astria_called = Signal()


@dataclass(frozen=True)
class ImageFile:
    """A training photo sent as a file part of a multipart create."""

    filename: str
    content: bytes
    content_type: str = "image/jpeg"


def rails_form(root: str, fields: dict[str, Any]) -> list[tuple[str, str]]:
    """Encode `fields` as Rails bracket keys: `tune[name]`, `tune[image_urls][]`, `tune[x][y]`.

    Booleans become the strings `true`/`false`; None is left out.
    """

    def text(value: Any) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    form: list[tuple[str, str]] = []
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, dict):
            form += [(f"{root}[{key}][{k}]", text(v)) for k, v in value.items()]
        elif isinstance(value, list | tuple):
            form += [(f"{root}[{key}][]", text(v)) for v in value]
        else:
            form.append((f"{root}[{key}]", text(value)))
    return form


def _error_message(response: requests.Response) -> str:
    """Astria's own words from an error body (`error`, sometimes `message`), else the reason;
    short, and with any URL cut before its query string (which may hold a signature)."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        detail = body.get("error") or body.get("message") or body
        text = detail if isinstance(detail, str) else str(detail)
    else:
        text = str(body)
    return URL_QUERY.sub(r"\1", text)[:MESSAGE_LIMIT]


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection itself failed, so the request cannot have reached Astria;
    False when it broke later (reset, remote closed), after the request may have been read."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)


def _parse(model: type[Model], body: Any) -> Model:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise AstriaError(f"Astria sent a {model.__name__} that does not parse ({where})") from None


Found = TypeVar("Found", Tune, Prompt)


def _newest_match(
    items: Iterator[Found], matches: Callable[[Found], bool], *, created_after: datetime
) -> Found | None:
    """The first of `items` (newest first) that `matches`, looking no further than the first
    one created before `created_after`; `items` is lazy, so no later page is fetched."""
    for item in items:
        if matches(item):
            return item
        if item.created_at is not None and item.created_at < created_after:
            return None
    return None


class AstriaClient:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = ASTRIA_BASE_URL,
        connect_timeout: float = 5.0,
        read_timeout: float = 35.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.session.headers["Accept"] = "application/json"

    def __repr__(self) -> str:
        return f"AstriaClient(base_url={self.base_url!r})"

    # --- Tunes --------------------------------------------------------------------------------

    def tune_create(self, tune: TuneCreate, *, images: Sequence[ImageFile] = ()) -> Tune:
        """Create (and start training) a tune: JSON with `image_urls`, or multipart with files."""
        fields = tune.model_dump(exclude_none=True)
        if images:
            fields.pop("image_urls", None)
            files = [
                ("tune[images][]", (image.filename, image.content, image.content_type))
                for image in images
            ]
            body = self._request("POST", "/tunes", data=rails_form("tune", fields), files=files)
        else:
            body = self._request("POST", "/tunes", json={"tune": fields})
        return _parse(Tune, body)

    def tune_get(self, tune_id: int) -> Tune:
        return _parse(Tune, self._request("GET", f"/tunes/{tune_id}"))

    def tunes_list(self) -> Iterator[Tune]:
        """Every tune of the account, newest first, fetched page by page with `before_id`."""
        for item in self._pages("/tunes"):
            yield _parse(Tune, item)

    def tune_find(self, title: str, *, created_after: datetime) -> Tune | None:
        """The tune titled exactly `title`, or None; for a create that may have been processed.

        The walk goes newest first and stops at the first tune created before `created_after`
        (an aware datetime: just before our first send), so a retry reads a page or two, never
        the whole account.
        """
        return _newest_match(
            self.tunes_list(), lambda tune: tune.title == title, created_after=created_after
        )

    def tune_delete(self, tune_id: int) -> None:
        self._request("DELETE", f"/tunes/{tune_id}")

    # --- Prompts ------------------------------------------------------------------------------

    def prompt_create(self, tune_id: int, prompt: PromptCreate) -> Prompt:
        """Queue a generation on `tune_id` (for a Flux LoRA: the base tune, LoRA named in text)."""
        body = self._request(
            "POST",
            f"/tunes/{tune_id}/prompts",
            json={"prompt": prompt.model_dump(exclude_none=True)},
        )
        return _parse(Prompt, body)

    def prompt_get(self, tune_id: int, prompt_id: int) -> Prompt:
        return _parse(Prompt, self._request("GET", f"/tunes/{tune_id}/prompts/{prompt_id}"))

    def prompts_list(self, tune_id: int) -> Iterator[Prompt]:
        """Every prompt of `tune_id`, newest first, page by page."""
        for item in self._pages(f"/tunes/{tune_id}/prompts"):
            yield _parse(Prompt, item)

    def prompt_find(
        self, tune_id: int, *, callback_contains: str, created_after: datetime
    ) -> Prompt | None:
        """The prompt of `tune_id` whose callback contains `callback_contains`, or None.

        Astria de-duplicates prompts only when the account's idempotency is on, so a prompt
        that may have been processed is looked up before it is sent again. Callbacks are
        matched on a part of their path (the portal's unique code; a callback may be shown
        without its query string), newest first, stopping at prompts older than
        `created_after`.
        """
        return _newest_match(
            self.prompts_list(tune_id),
            lambda prompt: callback_contains in (prompt.callback or ""),
            created_after=created_after,
        )

    def prompt_delete(self, prompt_id: int) -> None:
        self._request("DELETE", f"/prompts/{prompt_id}")

    def prompt_like(self, prompt_id: int) -> None:
        self._request("POST", f"/prompts/{prompt_id}/likes")

    # --- Images -------------------------------------------------------------------------------

    def image_inspect(self, *, name: str, image: ImageFile) -> ImageInspection:
        """Ask Astria what it sees in one training photo of a `name` (man, woman, …)."""
        body = self._request(
            "POST",
            "/images/inspect",
            data={"name": name},
            files=[("file", (image.filename, image.content, image.content_type))],
        )
        return _parse(ImageInspection, body)

    # --- HTTP ---------------------------------------------------------------------------------

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Follow `before_id` until an empty page (Astria may cap a page below our limit)."""
        before_id: int | None = None
        while True:
            params: dict[str, int] = {"limit": PAGE_LIMIT}
            if before_id is not None:
                params["before_id"] = before_id
            page = self._request("GET", path, params=params)
            if not isinstance(page, list) or not all(
                isinstance(item, dict) and "id" in item for item in page
            ):
                raise AstriaError(f"Astria sent a page of {path} that is not a list of objects")
            if not page:
                return
            yield from page
            before_id = min(int(item["id"]) for item in page)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; `astria_called` tells of it afterwards, whether it succeeded or not."""
        started = time.monotonic()
        status: int | None = None
        error = ""
        try:
            status, body = self._exchange(method, path, **kwargs)
            return body
        except AstriaError as exc:
            status, error = exc.status, exc.message
            raise
        finally:
            # send_robust: whoever keeps a record can never break the call itself.
            astria_called.send_robust(
                sender=AstriaClient,
                method=method,
                path=path,
                status=status,
                elapsed_ms=round((time.monotonic() - started) * 1000),
                error=error,
            )

    def _exchange(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        started = time.monotonic()
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except requests.ConnectionError as exc:
            never_sent = _never_sent(exc)
            logger.warning("astria %s %s: connection failed (%s)", method, path, type(exc).__name__)
            message = (
                "could not connect to Astria" if never_sent else "the connection to Astria broke"
            )
            raise AstriaError(
                message, may_have_been_processed=not never_sent and method != "GET"
            ) from None
        except requests.Timeout:
            logger.warning("astria %s %s: no answer within %ss", method, path, self.timeout[1])
            raise AstriaError(
                f"Astria did not answer within {self.timeout[1]:g} s",
                may_have_been_processed=method != "GET",
            ) from None
        except requests.RequestException as exc:
            logger.warning("astria %s %s: %s", method, path, type(exc).__name__)
            raise AstriaError(
                f"the answer from Astria was broken ({type(exc).__name__})",
                may_have_been_processed=method != "GET",
            ) from None
        elapsed = (time.monotonic() - started) * 1000
        logger.info("astria %s %s -> %s in %.0f ms", method, path, response.status_code, elapsed)
        if not response.ok:
            raise AstriaError.from_status(response.status_code, _error_message(response))
        if not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            # Answered, so a create was done: look it up before sending it again.
            raise AstriaError(
                f"Astria answered {response.status_code} with a body that is not JSON",
                status=response.status_code,
                may_have_been_processed=method != "GET",
            ) from None


@cache
def get_client() -> AstriaClient:
    """The client configured by the ASTRIA_* settings (one per process, one HTTP session)."""
    from django.conf import settings

    return AstriaClient(
        api_key=settings.ASTRIA_API_KEY,
        base_url=settings.ASTRIA_BASE_URL,
        connect_timeout=settings.ASTRIA_CONNECT_TIMEOUT,
        read_timeout=settings.ASTRIA_READ_TIMEOUT,
    )


def _forget_client(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("ASTRIA_"):
        get_client.cache_clear()


setting_changed.connect(_forget_client)
