"""What the Stripe sandbox answers instead of doing what it was asked: Stripe's error body."""

from __future__ import annotations


class StripeError(Exception):
    """Answered as `{"error": {"type", "message", "param"?, "code"?}}` with `status`; the
    official SDK turns it into its own exception (InvalidRequestError, AuthenticationError…)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, dict[str, str]]:
        error = {"type": self.type, "message": self.message}
        if self.param:
            error["param"] = self.param
        if self.code:
            error["code"] = self.code
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        f"No such {kind}: '{object_id}'", status=404, param=param, code="resource_missing"
    )
