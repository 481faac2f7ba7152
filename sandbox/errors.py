"""What the sandbox answers instead of doing what it was asked."""

from __future__ import annotations


class Refused(Exception):
    """A request Astria would refuse; the message is what the caller reads."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
