"""The one exception the Astria client raises, and how to tell what to do about it."""

from __future__ import annotations

# Every 4xx but these says the request itself is wrong (422 validation, 401/402/403 the key,
# 404 gone): no retry can fix it. A timeout or a rate limit can pass.
TRANSIENT_CLIENT_STATUSES = frozenset({408, 429})


class AstriaError(Exception):
    """A call to Astria that did not succeed.

    `status` is the HTTP status, or None when no answer came (timeout, connection refused).
    `permanent` says that retrying cannot help; otherwise back off and try again.
    `may_have_been_processed` is set for a 504: Astria gives up answering after 30 s but usually
    finishes the work, so look the object up before creating it again.
    The message is Astria's own (`error` or `message` in the body), never the request's headers.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        permanent: bool = False,
        may_have_been_processed: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.permanent = permanent
        self.may_have_been_processed = may_have_been_processed

    @classmethod
    def from_status(cls, status: int, message: str) -> AstriaError:
        return cls(
            message,
            status=status,
            permanent=400 <= status < 500 and status not in TRANSIENT_CLIENT_STATUSES,
            may_have_been_processed=status == 504,
        )

    @property
    def transient(self) -> bool:
        return not self.permanent

    @property
    def not_found(self) -> bool:
        return self.status == 404

    def __str__(self) -> str:
        return f"Astria {self.status or 'no answer'}: {self.message}"

    def __repr__(self) -> str:
        return f"AstriaError(status={self.status!r}, permanent={self.permanent}, {self.message!r})"
