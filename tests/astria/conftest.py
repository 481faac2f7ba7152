"""Fixtures for the Astria client and sandbox: the sandbox on a live server, a server of
photos to train on, and a receiver that records the callbacks the sandbox sends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from astria.client import AstriaClient
from sandbox.hosts import files_origin
from tests.images import photo_bytes

SANDBOX_KEY = "sd_sandbox"
OTHER_KEY = "sd_someone_else"


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Received:
    path: str
    body: Any


@dataclass
class LoopbackServer:
    """A small HTTP server on 127.0.0.1: serves `files` on GET, records every POST."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def serve(self) -> ThreadingHTTPServer:
        owner = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                if self.path in owner.redirects:
                    self.send_response(302)
                    self.send_header("Location", owner.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                found = owner.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                content, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                owner.received.append(Received(self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@pytest.fixture
def loopback(settings: Any) -> Iterator[LoopbackServer]:
    """Photos at /photo-N.jpeg (and /HLHBnl9.jpeg, the seed page's), a page that is not an
    image at /not-an-image.jpeg; POSTs anywhere are recorded as callbacks. It stands in for the
    portal's storage and callbacks, so the sandbox may reach it."""
    box = LoopbackServer()
    for n in range(4):
        box.files[f"/photo-{n}.jpeg"] = (photo_bytes(seed=n), "image/jpeg")
    box.files["/HLHBnl9.jpeg"] = (photo_bytes(seed=9), "image/jpeg")
    box.files["/not-an-image.jpeg"] = (b"<html>Not found</html>", "image/jpeg")
    server = box.serve()
    settings.ASTRIA_SANDBOX_OUTBOUND_HOSTS = [box.url]
    yield box
    server.shutdown()
    server.server_close()


@dataclass
class Sandbox:
    url: str

    def client(self, key: str = SANDBOX_KEY, **timeouts: float) -> AstriaClient:
        return AstriaClient(api_key=key, base_url=self.url, **timeouts)

    def configure(self, **config: Any) -> dict[str, Any]:
        response = requests.put(
            f"{self.url}/_sandbox/config",
            json=config,
            headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def expire(self, tune_id: int) -> dict[str, Any]:
        """Make a trained tune 31 days old, so that it has expired (Astria's 404 from now)."""
        response = requests.post(
            f"{self.url}/_sandbox/tunes/{tune_id}/expire",
            headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def requests_log(self) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.url}/_sandbox/requests",
            headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
            timeout=10,
        )
        return response.json()


@pytest.fixture
def sandbox(transactional_db: None, live_server: Any, settings: Any) -> Sandbox:
    """The sandbox on the live server, timers at zero, a second account for OTHER_KEY. Its
    results are served on the server's other loopback name, which the portal may copy from
    (as the default settings list it for `make run`)."""
    settings.ASTRIA_SANDBOX_EXTRA_KEYS = [OTHER_KEY]
    box = Sandbox(url=f"{live_server.url}/sandbox/astria")
    settings.ASTRIA_IMAGE_HOSTS = [*settings.ASTRIA_IMAGE_HOSTS, files_origin(box.url)]
    box.configure(train_seconds=0, generate_seconds=0)
    return box
