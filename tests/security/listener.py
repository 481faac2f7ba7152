"""A loopback port that notes every connection made to it and answers none: what shows that a
refused URL was refused before anything was sent to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest


class ConnectionRecorder:
    """Listens on 127.0.0.1; each connection is counted, then closed at once (so a client that
    does connect fails fast instead of waiting for an answer)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._count += 1
            connection.close()

    def connections(self) -> int:
        """Stop listening and count every connection, those still waiting in the backlog too:
        a client's connect() returns only once the kernel has queued it here."""
        if self._socket.fileno() == -1:
            return self._count
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.setblocking(False)
        for _ in range(1000):
            try:
                connection, _ = self._socket.accept()
            except BlockingIOError:
                break
            self._count += 1
            connection.close()
        self._socket.close()
        return self._count


@pytest.fixture
def listener() -> Iterator[ConnectionRecorder]:
    recorder = ConnectionRecorder()
    yield recorder
    recorder.connections()  # closes the socket, whatever the test did
