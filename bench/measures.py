"""The benchmarks, each a figure against a baseline measured in the same run on the same stack.

Every request goes to gunicorn over loopback with `X-Forwarded-Proto: https`, as the TLS proxy
in front of production sends it.
"""

from __future__ import annotations

import io
import statistics
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

PROXY = {"X-Forwarded-Proto": "https"}


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


# --- Load: many clients for a while -----------------------------------------------------------


def _client(args: tuple[list[tuple[str, bytes | None]], float, int]) -> tuple[list[float], int]:
    """One client process: `threads` threads, each sending the requests in turn until `seconds`
    have passed. Returns the latencies (s) of the 200s and the count of anything else."""
    requests_, seconds, threads = args
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(offset: int) -> None:
        session = requests.Session()
        session.headers.update(PROXY)
        n = offset
        while time.monotonic() < stop:
            url, body = requests_[n % len(requests_)]
            n += threads
            started = time.perf_counter()
            try:
                if body is None:
                    response = session.get(url, timeout=10)
                else:
                    response = session.post(
                        url, data=body, headers={"Content-Type": "application/json"}, timeout=10
                    )
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, errors[0]


def load(
    requests_: list[tuple[str, bytes | None]], *, clients: int, seconds: float
) -> dict[str, float]:
    """`clients` concurrent clients (4 processes of threads, so the client's own GIL is not the
    limit) for `seconds`: requests per second, p50 and p99 latency in ms, errors."""
    processes = 4
    per_process = clients // processes
    jobs = [(requests_[i::processes] or requests_, seconds, per_process) for i in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        results = list(pool.map(_client, jobs))
    latencies = sorted(lat for lats, _ in results for lat in lats)
    errors = sum(err for _, err in results)
    return {
        "per_second": len(latencies) / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
        "requests": len(latencies),
        "errors": errors,
    }


# --- Callbacks ----------------------------------------------------------------------------------


def callbacks(stack: Any, *, seconds: float, clients: int = 16) -> Figure:
    """Valid prompt callbacks against the trivial /healthz/ view, on the same server."""
    from tunes.callbacks import callback_secret, secret_hash
    from tunes.models import CallbackEvent, Prompt

    from .data import photoshoot_with_prompts

    photoshoot = photoshoot_with_prompts(prompts=200, status="submitted")
    calls = []
    for prompt in photoshoot.prompts.all():
        Prompt.objects.filter(pk=prompt.pk).update(
            callback_secret_hash=secret_hash(callback_secret("prompt", prompt.code))
        )
        url = (
            f"{stack.url}/callbacks/astria/prompt/{prompt.code}/"
            f"?secret={callback_secret('prompt', prompt.code)}"
        )
        body = f'{{"prompt": {{"id": {prompt.astria_id}, "images": []}}}}'.encode()
        calls.append((url, body))
    # The web side alone: the worker would otherwise share the two cores with it.
    stack.worker_stop()
    baseline = load([(f"{stack.url}/healthz/", None)], clients=clients, seconds=seconds)
    measured = load(calls, clients=clients, seconds=seconds)
    recorded = CallbackEvent.objects.filter(prompt__photoshoot=photoshoot).count()
    _queue_empty(stack)
    stack.worker_restart()
    ratio = measured["per_second"] / baseline["per_second"] if baseline["per_second"] else 0
    # Each answered callback records exactly one event: more would be doubled work, fewer lost.
    met = (
        measured["per_second"] >= 300
        and measured["p99_ms"] <= 50
        and ratio >= 0.5
        and measured["errors"] == 0
        and recorded == measured["requests"]
    )
    return Figure(
        "callbacks",
        measured["per_second"],
        "callbacks/s",
        baseline["per_second"],
        "/healthz/ requests/s",
        "≥ 300/s, p99 ≤ 50 ms, ratio ≥ 0.5, 0 errors, one event per callback",
        met,
        {"measured": measured, "baseline": baseline, "events_recorded": recorded},
    )


def _queue_empty(stack: Any) -> None:
    import redis

    redis.Redis.from_url(stack.env["CELERY_BROKER_URL"]).flushdb()


# --- Gallery -------------------------------------------------------------------------------------


def gallery(stack: Any, *, repeat: int) -> list[Figure]:
    """The gallery page with 10 and with 500 photos: queries and median latency, against the
    profile page (a plain template page for the same signed-in user)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from .data import finished_photoshoot

    small, large = finished_photoshoot(photos=10), finished_photoshoot(photos=500)
    owner = small.owner
    large.owner = owner
    type(large).objects.filter(pk=large.pk).update(owner=owner)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(owner)
    queries = {}
    for photoshoot in (small, large):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/photoshoots/{photoshoot.code}/")
        if response.status_code != 200:
            raise RuntimeError(f"the gallery answered {response.status_code}")
        queries[photoshoot.photos.count()] = len(captured)
    session = requests.Session()
    session.headers.update(PROXY)
    session.cookies.set("sessionid", client.cookies["sessionid"].value)

    def median_ms(path: str) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = session.get(stack.url + path, timeout=30)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
        return 1000 * statistics.median(times)

    base = median_ms("/profile/")
    figures = [
        Figure(
            "gallery queries",
            queries[500],
            "queries (500 photos)",
            queries[10],
            "queries (10 photos)",
            "the same, ≤ 10",
            queries[500] == queries[10] and queries[500] <= 10,
        )
    ]
    for photoshoot in (small, large):
        count = photoshoot.photos.count()
        ms = median_ms(f"/photoshoots/{photoshoot.code}/")
        figures.append(
            Figure(
                f"gallery, {count} photos",
                ms,
                "ms median",
                base,
                "/profile/ ms median",
                "≤ 2× the plain page",
                ms <= 2 * base,
            )
        )
    return figures


# --- Selfie processing ----------------------------------------------------------------------------


def selfies(*, count: int) -> Figure:
    """12-megapixel JPEGs verified and normalised, against Pillow alone doing decode → resize →
    encode of the same files: per second, in this one process."""
    from PIL import Image

    from uploads.images import LONGEST_SIDE, selfie_normalise

    from .data import camera_jpeg

    files = [camera_jpeg((4000, 3000), seed=n) for n in range(count)]

    def pillow_alone(content: bytes) -> None:
        with Image.open(io.BytesIO(content)) as image:
            image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))  # Pillow's default filter
            image.save(io.BytesIO(), "JPEG", quality=90)

    def rate(work: Any) -> float:
        started = time.perf_counter()
        for content in files:
            work(content)
        return len(files) / (time.perf_counter() - started)

    rate(pillow_alone)  # warm up, both
    rate(selfie_normalise)
    base = rate(pillow_alone)
    ours = rate(selfie_normalise)
    return Figure(
        "selfie processing",
        ours,
        "photos/s",
        base,
        "Pillow decode → resize → encode, photos/s",
        "≥ 3/s, Pillow's time × ≤ 1.3",
        ours >= 3 and base / ours <= 1.3,
        {"time_ratio": base / ours, "megapixels": 12},
    )


# --- Photo ingest --------------------------------------------------------------------------------


def ingest(*, count: int) -> Figure:
    """1024×1024 results fetched over HTTP, verified, thumbnailed and stored in S3, per second
    in this one process."""
    from django.conf import settings
    from django.test import override_settings

    from tunes.ingest import photo_ingest

    from .data import camera_jpeg, photoshoot_with_prompts

    content = camera_jpeg((1024, 1024), seed=7)

    class Results(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Results)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    # The copier fetches only from allowed origins: this stand-in for Astria's image host is one.
    hosts = [*settings.ASTRIA_IMAGE_HOSTS, origin]
    try:
        photoshoot = photoshoot_with_prompts(prompts=count // 4, status="submitted")
        jobs = [
            (prompt.pk, index, f"{origin}/{uuid.uuid4()}.jpg")
            for prompt in photoshoot.prompts.all()
            for index in range(4)
        ]
        started = time.perf_counter()
        with override_settings(ASTRIA_IMAGE_HOSTS=hosts):
            for prompt_id, index, url in jobs:
                photo_ingest(prompt_id=prompt_id, index=index, url=url)
        rate = len(jobs) / (time.perf_counter() - started)
    finally:
        server.shutdown()
    return Figure("photo ingest", rate, "photos/s", None, "", "≥ 10/s", rate >= 10)


# --- End to end ----------------------------------------------------------------------------------


def _until_ended(photoshoot: Any, started: float, timeout: float) -> float:
    """Seconds from `started` until the photoshoot is ready or failed (or the timeout)."""
    from tunes.models import Photoshoot

    while time.monotonic() - started < timeout:
        photoshoot.refresh_from_db()
        if photoshoot.status in (Photoshoot.Status.READY, Photoshoot.Status.FAILED):
            break
        time.sleep(0.1)
    return time.monotonic() - started


def train_once(stack: Any, *, train_seconds: float = 5, timeout: float = 180) -> Figure:
    """A pack on a model trained already, start → ready, against the first photoshoot of the
    same selfie set (which trains the model) in the same run: the training share it saves.
    The sandbox trains in `train_seconds` (Astria: 30 to 60 minutes) and generates at once;
    both packs are 10 prompts × 4 images."""
    from tunes import photoshoots
    from tunes.models import Photoshoot

    from .data import funded_user_with_selfies, pack_of

    stack.sandbox(train_seconds=train_seconds, generate_seconds=0)
    user, selfie_set = funded_user_with_selfies()
    times = []
    shoots = []
    for _ in range(2):
        pack = pack_of(prompts=10, images=4)
        started = time.monotonic()
        photoshoot = photoshoots.photoshoot_start(
            user=user, selfie_set=selfie_set, pack=pack, start_token=uuid.uuid4(), price_seen=None
        )
        times.append(_until_ended(photoshoot, started, timeout))
        shoots.append(photoshoot)
    first, second = times
    ready = all(s.status == Photoshoot.Status.READY for s in shoots)
    one_model = shoots[0].model_id == shoots[1].model_id and not shoots[1].with_training
    return Figure(
        "pack on a trained model",
        second,
        "s, start → ready",
        first,
        "s, first photoshoot (trains)",
        "ratio ≤ 0.5, one model",
        ready and one_model and second <= first * 0.5,
        {
            "train_seconds": train_seconds,
            "saved_s": first - second,
            "one_model": one_model,
            "statuses": [s.status for s in shoots],
        },
    )


def end_to_end(stack: Any, *, timeout: float = 120) -> Figure:
    """A pack of 10 prompts × 4 images on the sandbox with zero timers, from start to ready,
    on the stack's worker, training its model first; the time split by stage."""
    from tunes import photoshoots
    from tunes.models import Photoshoot

    from .data import funded_user_with_selfies, pack_of

    stack.sandbox(train_seconds=0, generate_seconds=0)
    pack = pack_of(prompts=10, images=4)
    user, selfie_set = funded_user_with_selfies()
    started = time.monotonic()
    photoshoot = photoshoots.photoshoot_start(
        user=user, selfie_set=selfie_set, pack=pack, start_token=uuid.uuid4(), price_seen=None
    )
    total = _until_ended(photoshoot, started, timeout)
    model = photoshoot.model
    model.refresh_from_db()
    stages = {}
    if model.submitted_at and model.trained_at and photoshoot.finished_at:
        last_sent = max(photoshoot.prompts.values_list("submitted_at", flat=True))
        stages = {
            "queued → sent to Astria": (model.submitted_at - model.created_at).total_seconds(),
            "sent → trained": (model.trained_at - model.submitted_at).total_seconds(),
            "trained → last scene sent": (last_sent - model.trained_at).total_seconds(),
            "last scene sent → ready (generate, copy 40 photos)": (
                photoshoot.finished_at - last_sent
            ).total_seconds(),
        }
    return Figure(
        "end to end",
        total,
        "s, start → ready",
        None,
        "",
        "≤ 15 s",
        photoshoot.status == Photoshoot.Status.READY and total <= 15,
        {"status": photoshoot.status, "stages_s": stages, "photos": photoshoot.photos.count()},
    )
