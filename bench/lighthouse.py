"""`make lighthouse`: Lighthouse's four scores of the customer's main pages, on the production
stack started on this machine (bench.stack: gunicorn, WhiteNoise's static files, PostgreSQL,
Redis, the S3 server), everything on 127.0.0.1.

The rows are the accessibility test's (tests/customer_pages.py), so both look at the same pages.
Lighthouse (npm, pinned in package.json) drives Debian's Chromium in its default mobile
emulation, a page at a time, each in a fresh Chromium; a signed-in page's browser is given the
session cookie first, as a logged-in tab has it.
Prints a table (Markdown, for the README) and flags each score under its target; the JSON
reports are kept under var/lighthouse/ for the audits behind a score.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .stack import BASE_DIR, Stack

LIGHTHOUSE = BASE_DIR / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REPORTS = BASE_DIR / "var" / "lighthouse"
DATABASE = "photoshoot_lighthouse"  # not the benchmarks' one: both may run at once
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95, "accessibility": 98, "best-practices": 95, "seo": 90}
# The pages measured (names from tests/customer_pages.py); the public ones are measured as a
# visitor sees them (and as a search engine does), the others signed in.
PUBLIC = ("home", "packs", "pack", "login")
SIGNED_IN = ("dashboard", "set", "progress", "gallery", "photo")
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Nothing but the page: no update checks, no sync, no component downloads.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
]


@dataclass
class Result:
    page: str
    path: str
    public: bool
    scores: dict[str, int]
    below: dict[str, list[str]]  # category: the audits that cost it points, worst first

    def shortfalls(self) -> list[str]:
        return [
            f"{category} {self.scores[category]} < {target}"
            for category, target in TARGETS.items()
            if self.scores[category] < target and (self.public or category != "seo")
        ]


@contextmanager
def chromium(cookie: dict[str, str] | None) -> Iterator[int]:
    """A fresh Chromium (its own empty profile, so every page loads cold) listening for
    Lighthouse on a loopback port; signed in when given the session cookie, set in the browser
    itself so the page's own requests (the progress page's status poll) carry it as a real tab's
    would. Yields the debugging port."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    with tempfile.TemporaryDirectory() as profile:
        process = subprocess.Popen(  # noqa: S603 - Debian's Chromium, our own flags
            [
                CHROMIUM,
                *CHROME_FLAGS,
                "--remote-debugging-address=127.0.0.1",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_port(port)
            if cookie:
                with sync_playwright() as playwright:
                    browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
                    browser.contexts[0].add_cookies([cookie])  # type: ignore[list-item]
            yield port
        finally:
            process.terminate()
            process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"Chromium did not listen on port {port}")


def lighthouse(url: str, *, cookie: dict[str, str] | None, report: Path) -> dict[str, Any]:
    """One Lighthouse run of `url` (mobile emulation, its default) in a fresh Chromium; its
    JSON report. Storage is not reset: that would throw the session cookie away, and the
    profile is new for each page anyway."""
    with chromium(cookie) as port:
        command = [
            str(LIGHTHOUSE),
            url,
            f"--port={port}",
            "--disable-storage-reset",
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
        ]
        subprocess.run(command, check=True, cwd=BASE_DIR, timeout=300)  # noqa: S603 - our own tool
    return json.loads(report.read_text())


def costly_audits(report: dict[str, Any], category: str) -> list[str]:
    """The scored audits of `category` that did not pass, heaviest first."""
    audits = report["audits"]
    refs = report["categories"][category]["auditRefs"]
    failed = [
        (ref["weight"], audits[ref["id"]]["title"])
        for ref in refs
        if ref["weight"] and (audits[ref["id"]]["score"] or 0) < 0.9
    ]
    return [title for _, title in sorted(failed, key=lambda f: -f[0])]


def measure(url: str, page: str, path: str, *, cookie: dict[str, str] | None) -> Result:
    report = lighthouse(url + path, cookie=cookie, report=REPORTS / f"{page}.json")
    if report["finalDisplayedUrl"] != url + path:
        # Sent to the login page, or elsewhere: the scores would be another page's.
        raise RuntimeError(f"{page}: Lighthouse ended at {report['finalDisplayedUrl']}")
    categories = report["categories"]
    scores = {c: round((categories[c]["score"] or 0) * 100) for c in CATEGORIES}
    return Result(
        page=page,
        path=path,
        public=cookie is None,
        scores=scores,
        below={c: costly_audits(report, c) for c in CATEGORIES if scores[c] < TARGETS[c]},
    )


def table(results: list[Result]) -> str:
    """A Markdown table; a score under its target is marked ✗ (SEO only on public pages)."""
    lines = [
        "| page | signed in | " + " | ".join(CATEGORIES) + " |",
        "|---|---|" + "---:|" * len(CATEGORIES),
    ]
    for r in results:
        cells = []
        for c in CATEGORIES:
            flagged = r.scores[c] < TARGETS[c] and (r.public or c != "seo")
            cells.append(f"{r.scores[c]} ✗" if flagged else str(r.scores[c]))
        lines.append(f"| {r.page} | {'no' if r.public else 'yes'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def session_cookie(user: Any, url: str) -> dict[str, str]:
    """A session of `user`, as the cookie the browser is given for the stack's `url`."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": url}


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the stack's cleanup


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if not LIGHTHOUSE.exists():
        print("Lighthouse is not installed: run `npm ci` (make lighthouse does).", file=sys.stderr)
        return 2
    REPORTS.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M")
    with Stack(database=DATABASE) as stack:
        os.environ.update(stack.env, DJANGO_SETTINGS_MODULE="photoshoot.settings")
        import django

        django.setup()
        from tests.customer_pages import journey_create

        journey = journey_create()
        paths = {p.name: p.path for p in journey.pages()}
        cookie = session_cookie(journey.user, stack.url)
        results = []
        for page in (*PUBLIC, *SIGNED_IN):
            print(f"lighthouse {page} …", flush=True)
            signed_in = page in SIGNED_IN
            results.append(
                measure(stack.url, page, paths[page], cookie=cookie if signed_in else None)
            )
    print(f"\nLighthouse 12.2.3, mobile emulation, {started}, reports in {REPORTS}:\n")
    print(table(results))
    short = [(r, r.shortfalls()) for r in results]
    short = [(r, s) for r, s in short if s]
    if short:
        print("\nBelow target:")
        for r, shortfalls in short:
            print(f"- {r.page}: {', '.join(shortfalls)}")
            for category, audits in r.below.items():
                if audits:
                    print(f"    {category}: {'; '.join(audits[:5])}")
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
