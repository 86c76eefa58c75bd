"""Qt-free API layer: catalogue, request/response types, HTTP client, errors, image preparation.

Names are imported on first use (PEP 562): importing one light module of this package must not pull in the
HTTP stack, image decoding or the engine before the window has shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixdesk.lazy import lazy_exports

if TYPE_CHECKING:
    from pixdesk.api.catalogue import DEFAULT_MODEL, MODELS, SPEAKERS, STYLES, ModelSpec, get_model
    from pixdesk.api.client import DEFAULT_BASE_URL, ApiClient, Timeouts
    from pixdesk.api.errors import (
        ApiError,
        AuthenticationError,
        BadRequestError,
        ConnectionFailed,
        DownloadError,
        InsufficientCreditsError,
        MalformedResponseError,
        NotFoundError,
        PixDeskError,
        RateLimitError,
        RequestTimeout,
        ServerError,
    )
    from pixdesk.api.request import FieldError, GenerationRequest, ValidationError
    from pixdesk.api.responses import Balance, GenerationStatus, Outcome

_WHERE = {
    "DEFAULT_MODEL": "pixdesk.api.catalogue",
    "MODELS": "pixdesk.api.catalogue",
    "SPEAKERS": "pixdesk.api.catalogue",
    "STYLES": "pixdesk.api.catalogue",
    "ModelSpec": "pixdesk.api.catalogue",
    "get_model": "pixdesk.api.catalogue",
    "DEFAULT_BASE_URL": "pixdesk.api.client",
    "ApiClient": "pixdesk.api.client",
    "Timeouts": "pixdesk.api.client",
    "ApiError": "pixdesk.api.errors",
    "AuthenticationError": "pixdesk.api.errors",
    "BadRequestError": "pixdesk.api.errors",
    "ConnectionFailed": "pixdesk.api.errors",
    "DownloadError": "pixdesk.api.errors",
    "InsufficientCreditsError": "pixdesk.api.errors",
    "MalformedResponseError": "pixdesk.api.errors",
    "NotFoundError": "pixdesk.api.errors",
    "PixDeskError": "pixdesk.api.errors",
    "RateLimitError": "pixdesk.api.errors",
    "RequestTimeout": "pixdesk.api.errors",
    "ServerError": "pixdesk.api.errors",
    "FieldError": "pixdesk.api.request",
    "GenerationRequest": "pixdesk.api.request",
    "ValidationError": "pixdesk.api.request",
    "Balance": "pixdesk.api.responses",
    "GenerationStatus": "pixdesk.api.responses",
    "Outcome": "pixdesk.api.responses",
}

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "MODELS",
    "SPEAKERS",
    "STYLES",
    "ApiClient",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "Balance",
    "ConnectionFailed",
    "DownloadError",
    "FieldError",
    "GenerationRequest",
    "GenerationStatus",
    "InsufficientCreditsError",
    "MalformedResponseError",
    "ModelSpec",
    "NotFoundError",
    "Outcome",
    "PixDeskError",
    "RateLimitError",
    "RequestTimeout",
    "ServerError",
    "Timeouts",
    "ValidationError",
    "get_model",
]


__getattr__ = lazy_exports(__name__, _WHERE, globals())
