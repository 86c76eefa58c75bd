"""Qt-free API layer: catalogue, request/response types, HTTP client, errors, image preparation."""

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
