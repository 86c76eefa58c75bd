"""One exception class per failure kind, each carrying what the user needs to see.

The API key never appears in any of these: messages come from the server's answer or from us,
and `__repr__` shows only status, message and request id.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What a failure means for the person, and so which exit code the CLI gives (EXIT_CODES)."""

    INPUT = "input"  # the user's input cannot be used: fix it and try again
    API = "api"  # the API refused: key, credits, validation, a failed generation
    NETWORK = "network"  # no (usable) answer: network, timeout, or an outcome still unknown


EXIT_OK = 0
EXIT_CODES: dict[ErrorKind, int] = {ErrorKind.INPUT: 2, ErrorKind.API: 3, ErrorKind.NETWORK: 4}


class PixDeskError(Exception):
    """Base for every failure PixDesk reports; `.message` is what a person reads."""

    kind: ErrorKind = ErrorKind.API

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message = message


class ApiError(PixDeskError):
    """The server answered with an error status."""

    status: int | None = None
    label = "api error"

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
    label = "rejected"


class AuthenticationError(ApiError):
    status = 401
    label = "authentication"


class InsufficientCreditsError(ApiError):
    status = 403
    label = "credits"


class NotFoundError(ApiError):
    status = 404
    label = "not found"


class RateLimitError(ApiError):
    status = 429
    kind = ErrorKind.NETWORK
    label = "rate limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiError):
    status = 500
    kind = ErrorKind.NETWORK
    label = "server"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class MalformedResponseError(ApiError):
    """A 2xx answer whose body is not the JSON we expect (an HTML page, a truncated body, ...)."""

    kind = ErrorKind.NETWORK

    label = "malformed response"


class ConnectionFailed(PixDeskError):
    """No answer. `may_have_reached_server` is False only when the request surely never left us."""

    kind = ErrorKind.NETWORK
    label = "network"

    def __init__(self, message: str, *, may_have_reached_server: bool) -> None:
        super().__init__(message)
        self.may_have_reached_server = may_have_reached_server


class RequestTimeout(ConnectionFailed):
    label = "timeout"


class DownloadError(PixDeskError):
    """A downloaded file is incomplete or is not a video."""

    kind = ErrorKind.NETWORK

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class InputError(PixDeskError):
    """The user's input cannot be used as it is (a bad field, an unusable image, an unwritable folder)."""

    kind = ErrorKind.INPUT


class LocalWriteError(PixDeskError):
    """Our own disk refused the clip (full, read-only, no permission): retrying the network will not help."""

    kind = ErrorKind.INPUT


LOCAL_WRITE_ERRNOS = frozenset({28, 13, 30, 122, 1})  # ENOSPC, EACCES, EROFS, EDQUOT, EPERM


def is_transient(exc: BaseException) -> bool:
    """Whether an idempotent request (poll, download, balance) is worth repeating after `exc`.

    The one place that decides it: a 404 or a malformed answer right after a create is the server's
    hiccup, never a verdict on a paid job, so they are retried too (within the retry budget)."""
    if isinstance(exc, RateLimitError | ServerError | MalformedResponseError | ConnectionFailed | NotFoundError):
        return True
    if isinstance(exc, DownloadError):
        return exc.retryable
    return False


def is_refusal(exc: BaseException) -> bool:
    """The key was refused or the credits ran out: retrying will not help until the user acts."""
    return isinstance(exc, AuthenticationError | InsufficientCreditsError)


def kind_of(exc: BaseException) -> ErrorKind:
    if isinstance(exc, PixDeskError):
        return exc.kind
    return ErrorKind.API


def exit_code_for_kind(kind: ErrorKind | str | None) -> int:
    """The CLI's exit code for a failure of this kind (an unknown kind counts as network: 4)."""
    try:
        return EXIT_CODES[ErrorKind(kind)] if kind else EXIT_CODES[ErrorKind.NETWORK]
    except ValueError:
        return EXIT_CODES[ErrorKind.NETWORK]


def retry_after_of(exc: BaseException) -> float | None:
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None
