"""pachca-async: an asyncio SDK for the Pachca messenger API, on aiohttp.

```python
from pachca_async import PachcaClient

async with PachcaClient("TOKEN") as pachca:
    msg = await pachca.messages.create_message(entity_id=198, content="Hello")
```

Models live in `pachca_async.models`; errors are importable from here.
"""

from ._client import PachcaClient
from ._config import Timeout
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ClientClosedError,
    ConflictError,
    ConnectError,
    ConnectTimeoutError,
    DownloadError,
    EventLoopError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    OperationUnavailableError,
    PachcaError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerError,
    StorageError,
    SubmitExpiredError,
    UploadError,
    ValidationError,
)
from ._middleware import Handler, Middleware
from ._operation import Operation, RateClass
from ._pagination import Page, Paginator
from ._ratelimit import (
    MemoryRateLimitBackend,
    Rate,
    RateKey,
    RateLimitBackend,
    RateLimiter,
    RateLimits,
)
from ._raw import RawResponse
from ._retry import RetryEvent, RetryPolicy
from ._transport import AiohttpTransport, Request, Response, Sink, Transport
from ._types import UNSET, InputFile, Unset
from ._version import __version__

__all__ = [
    "UNSET",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AiohttpTransport",
    "AuthenticationError",
    "ClientClosedError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeoutError",
    "DownloadError",
    "EventLoopError",
    "GoneError",
    "Handler",
    "InputFile",
    "InvalidRequestError",
    "MemoryRateLimitBackend",
    "Middleware",
    "NotFoundError",
    "Operation",
    "OperationUnavailableError",
    "PachcaClient",
    "PachcaError",
    "Page",
    "Paginator",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "Rate",
    "RateClass",
    "RateKey",
    "RateLimitBackend",
    "RateLimitError",
    "RateLimiter",
    "RateLimits",
    "RawResponse",
    "Request",
    "Response",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "Sink",
    "StorageError",
    "SubmitExpiredError",
    "Timeout",
    "Transport",
    "Unset",
    "UploadError",
    "ValidationError",
    "__version__",
]
