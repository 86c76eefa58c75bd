"""One exception class per failure kind, each carrying what the user needs to see.

The API key never appears in any of these: messages come from the server's answer or from us,
and `__repr__` shows only status, message and request id.
"""

from __future__ import annotations


class PixDeskError(Exception):
    """Base for everything the API layer raises."""


class ApiError(PixDeskError):
    """The server answered with an error status."""

    status: int | None = None
    kind = "api error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        path: str | None = None,
        detail: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.request_id = request_id
        self.path = path
        self.detail = detail

    def __str__(self) -> str:
        parts = [f"{self.message}"]
        if self.status is not None:
            parts.append(f"(HTTP {self.status}")
            parts[-1] += f", request {self.request_id})" if self.request_id else ")"
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, request_id={self.request_id!r})"
        )


class BadRequestError(ApiError):
    status = 400
    kind = "rejected"


class AuthenticationError(ApiError):
    status = 401
    kind = "authentication"


class InsufficientCreditsError(ApiError):
    status = 403
    kind = "credits"


class NotFoundError(ApiError):
    status = 404
    kind = "not found"


class RateLimitError(ApiError):
    status = 429
    kind = "rate limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiError):
    status = 500
    kind = "server"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class MalformedResponseError(ApiError):
    """A 2xx answer whose body is not the JSON we expect (an HTML page, a truncated body, ...)."""

    kind = "malformed response"


class ConnectionFailed(PixDeskError):
    """No answer. `may_have_reached_server` is False only when the request surely never left us."""

    kind = "network"

    def __init__(self, message: str, *, may_have_reached_server: bool) -> None:
        super().__init__(message)
        self.message = message
        self.may_have_reached_server = may_have_reached_server


class RequestTimeout(ConnectionFailed):
    kind = "timeout"


class DownloadError(PixDeskError):
    """A downloaded file is incomplete or is not a video."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def is_transient(exc: BaseException) -> bool:
    """Failures worth retrying for an idempotent request (poll, download, balance)."""
    if isinstance(exc, RateLimitError | ServerError | MalformedResponseError | ConnectionFailed):
        return True
    if isinstance(exc, DownloadError):
        return exc.retryable
    return False


def retry_after_of(exc: BaseException) -> float | None:
    return getattr(exc, "retry_after", None)
