"""Every failure is a typed `PachcaError` carrying what the server said; nothing raw leaks out."""

from __future__ import annotations

import asyncio
import email.utils
import pickle
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses
from multidict import CIMultiDict, CIMultiDictProxy

from pachca_async import (
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
    PachcaClient,
    PachcaError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    StorageError,
    Timeout,
    UploadError,
    ValidationError,
)
from pachca_async._retry_after import MAX_RETRY_AFTER
from pachca_async.bot import LeaseLost
from pachca_async.forms import SubmitExpiredError, TriggerExpiredError
from pachca_async.models import ApiErrorItem, ValidationErrorCode
from pachca_async.testing import FakePachca, Reply, api_error, message
from pachca_async.webhooks import Failure, WebhookVerificationError
from tests.scripting import BASE_PATH, TOKEN, count, free_port, reply_json
from tests.session.conftest import NO_RETRIES, virtual_clock

OAUTH_401 = {"error": "invalid_token", "error_description": "Access token is missing"}
HTML_502 = "<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.parametrize(
    ("reply", "error_type"),
    [
        (Reply(400, api_error("message.content", "can't be blank", "blank")), ValidationError),
        (Reply(422, api_error("name", "is taken", "taken", value="x")), ValidationError),
        (Reply(422, api_error("submit_id", "expired", "submit_expired")), SubmitExpiredError),
        (Reply(401, OAUTH_401), AuthenticationError),
        (Reply(402, api_error("plan", "upgrade", "payment_required")), PaymentRequiredError),
        (Reply(403, api_error("chat", "no", "forbidden")), PermissionDeniedError),
        (Reply(404, api_error("id", "not found", "not_found")), NotFoundError),
        (Reply(409, api_error("key", "conflict", "already_exists")), ConflictError),
        (Reply(410, api_error("trigger_id", "expired", "trigger_expired")), GoneError),
        (Reply(429, api_error("limit", "slow down", "rate_limit")), RateLimitError),
        (Reply(500, api_error("x", "boom", "unhandled")), ServerError),
        (Reply(503, body=""), ServerError),
        (Reply(502, body=HTML_502, content_type="text/html"), ServerError),
        (Reply(418, body="I'm a teapot", content_type="text/plain"), APIStatusError),
        (Reply(301, headers={"Location": "https://elsewhere"}), APIStatusError),
    ],
)
async def test_status_maps_to_its_error_type(
    server: FakePachca, pachca: PachcaClient, reply: Reply, error_type: type[APIStatusError]
) -> None:
    server.reply("GET", "/messages/5", reply)
    with pytest.raises(PachcaError) as caught:
        await pachca.messages.get_message(5)
    error = caught.value
    assert type(error) is error_type
    assert isinstance(error, APIStatusError)
    assert error.status == reply.status
    assert error.operation == "messages.get_message"
    assert (
        f"messages.get_message (GET /api/shared/v1/messages/5) failed with {reply.status}"
        in str(error)
    )


async def test_validation_error_carries_field_items(
    server: FakePachca, pachca: PachcaClient
) -> None:
    body = {
        "errors": [
            {
                "key": "message.content",
                "value": None,
                "message": "can't be blank",
                "code": "blank",
                "payload": None,
            },
            {
                "key": "custom_properties",
                "value": "x",
                "message": "unknown property",
                "code": "a_code_added_later",
                "payload": {"id": 5},
            },
        ]
    }
    server.reply("POST", "/messages", Reply(422, body, headers={"X-Request-Id": "req-42"}))
    with pytest.raises(ValidationError) as caught:
        await pachca.messages.create_message(entity_id=1, content="")
    error = caught.value
    assert error.errors == [
        ApiErrorItem(
            key="message.content",
            value=None,
            message="can't be blank",
            code=ValidationErrorCode.BLANK,
            payload=None,
        ),
        ApiErrorItem(
            key="custom_properties",
            value="x",
            message="unknown property",
            code="a_code_added_later",  # type: ignore[arg-type]
            payload={"id": 5},
        ),
    ]
    assert error.request_id == "req-42"
    assert error.headers["X-Request-Id"] == "req-42"
    assert error.body == server_body(body)
    assert "message.content: can't be blank; custom_properties: unknown property" in str(error)


async def test_error_items_without_optional_keys_still_parse(
    server: FakePachca, pachca: PachcaClient
) -> None:
    # `value` and `payload` are nullable: an item that leaves them out means the same
    body = {"errors": [{"key": "first_name", "message": "can't be blank", "code": "blank"}]}
    reply_json(server, "PUT", "/users/3", body, status=422)
    with pytest.raises(ValidationError) as caught:
        await pachca.users.update_user(3, first_name="")
    (item,) = caught.value.errors
    assert type(item) is ApiErrorItem
    assert (item.key, item.value, item.payload) == ("first_name", None, None)


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'{"errors": "oops"}',
        b'{"errors": [1, null, {"key": 1}]}',
        b'{"error": 5}',
        b"\xff\xfe not utf-8",
        b'{"errors": [',
    ],
)
async def test_odd_error_bodies_still_give_the_typed_error(
    server: FakePachca, pachca: PachcaClient, body: bytes
) -> None:
    server.reply("GET", "/messages/5", Reply(404, body=body, content_type="application/json"))
    with pytest.raises(PachcaError) as caught:
        await pachca.messages.get_message(5)
    assert type(caught.value) is NotFoundError
    assert caught.value.body == body


async def test_authentication_error_carries_oauth_fields(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "GET", "/profile", OAUTH_401, status=401)
    with pytest.raises(AuthenticationError) as caught:
        await pachca.profile.get_profile()
    error = caught.value
    assert (error.error, error.error_description) == ("invalid_token", "Access token is missing")
    assert error.errors == []
    assert str(error).endswith(
        "failed with 401 Unauthorized: invalid_token: Access token is missing"
    )


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        (
            {"error": "insufficient_scope", "error_description": "Needs the messages:read scope"},
            "messages:read",
        ),
        (  # the description does not name it: the scope the spec requires
            {"error": "insufficient_scope", "error_description": "Insufficient scope"},
            "messages:read",
        ),
        (api_error("chat", "You are not a member", "permission_denied"), None),
    ],
)
async def test_permission_denied_in_both_body_shapes(
    server: FakePachca, pachca: PachcaClient, body: dict[str, Any], missing: str | None
) -> None:
    reply_json(server, "GET", "/messages/5", body, status=403)
    with pytest.raises(PermissionDeniedError) as caught:
        await pachca.messages.get_message(5)
    error = caught.value
    assert error.missing_scope == missing
    assert error.required_scope == "messages:read"
    if "errors" in body:
        assert [item.code for item in error.errors] == [ValidationErrorCode.PERMISSION_DENIED]
        assert error.error is None
    else:
        assert error.error == "insufficient_scope"


async def test_rate_limit_error_reads_delta_seconds(
    server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/messages/5", Reply(429, body="", headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as caught:
        await pachca.messages.get_message(5)
    assert caught.value.retry_after == 7.0
    assert caught.value.body == b""
    assert "empty body" in str(caught.value)


async def test_rate_limit_error_reads_http_date(server: FakePachca) -> None:
    now = 1_714_557_600.0  # 2024-05-01 10:00:00 UTC
    retry = RetryPolicy(max_retries=0, wall_clock=lambda: now)
    later = email.utils.formatdate(now + 30, usegmt=True)
    server.reply("GET", "/messages/5", Reply(429, headers={"Retry-After": later}))
    async with PachcaClient(TOKEN, base_url=server.base_url, retry=retry) as pachca:
        with pytest.raises(RateLimitError) as caught:
            await pachca.messages.get_message(5)
    assert caught.value.retry_after == 30.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("soon", None),
        ("-3", 0.0),
        ("nan", None),
        ("inf", MAX_RETRY_AFTER),
        ("1e999", MAX_RETRY_AFTER),
        ("1e300", MAX_RETRY_AFTER),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
    ],
)
async def test_unusable_retry_after_is_not_trusted(
    server: FakePachca, pachca: PachcaClient, header: str, expected: float | None
) -> None:
    server.reply("GET", "/messages/5", Reply(429, headers={"Retry-After": header}))
    with pytest.raises(RateLimitError) as caught:
        await pachca.messages.get_message(5)
    assert caught.value.retry_after == expected


async def test_html_bad_gateway_keeps_the_raw_body(
    server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/messages/5", Reply(502, body=HTML_502, content_type="text/html"))
    with pytest.raises(ServerError) as caught:
        await pachca.messages.get_message(5)
    assert caught.value.body == HTML_502.encode()
    assert caught.value.errors == []
    assert str(caught.value).endswith("502 Bad Gateway: undecodable body")


# -- success answers that cannot be read -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<html>maintenance</html>",
        b"",
        b"\xff\xfe",
        b'{"data": {"id": 5}}',  # required keys missing
        b'{"data": []}',
        b"{}",
        b"[]",
        b'"text"',
        b'{"data": ' + str(message(5) | {"created_at": "yesterday"}).encode() + b"}",
    ],
)
async def test_unreadable_success_is_a_decode_error(
    server: FakePachca, pachca: PachcaClient, body: bytes
) -> None:
    server.reply("GET", "/messages/5", Reply(200, body=body, content_type="application/json"))
    with pytest.raises(PachcaError) as caught:
        await pachca.messages.get_message(5)
    error = caught.value
    assert type(error) is ResponseDecodeError
    assert (error.status, error.body, error.operation) == (200, body, "messages.get_message")


@pytest.mark.parametrize(
    "document",
    [
        {"data": [{"id": 1}], "meta": {"paginate": {"next_page": "x"}}},
        {"data": [], "meta": "x"},
        {"data": {}, "meta": {"paginate": {"next_page": "x", "has_next": False}}},
        {"data": []},
    ],
)
async def test_unreadable_page_is_a_decode_error(
    server: FakePachca, pachca: PachcaClient, document: Any
) -> None:
    reply_json(server, "GET", "/chats", document)
    with pytest.raises(PachcaError) as caught:
        await pachca.chats.list_chats()
    assert type(caught.value) is ResponseDecodeError


# -- no answer at all --------------------------------------------------------------------------


async def test_connection_refused_is_connect_error() -> None:
    closed_port = free_port()
    base_url = f"http://127.0.0.1:{closed_port}/api/shared/v1"
    async with PachcaClient(TOKEN, base_url=base_url, retry=NO_RETRIES) as pachca:
        with pytest.raises(PachcaError) as caught:
            await pachca.messages.get_message(5)
    assert type(caught.value) is ConnectError
    assert f"cannot connect to 127.0.0.1:{closed_port}" in str(caught.value)


@virtual_clock
async def test_slow_answer_is_timeout_error() -> None:
    async with FakePachca(base_path=BASE_PATH) as server:
        server.reply("GET", "/messages/5", Reply(200, {"data": message(5)}, delay=31))
        async with PachcaClient(TOKEN, base_url=server.base_url, retry=NO_RETRIES) as pachca:
            with pytest.raises(PachcaError) as caught:
                await pachca.messages.get_message(5)
    assert type(caught.value) is APITimeoutError
    assert "GET /api/shared/v1/messages/5" in str(caught.value)


async def test_dropped_connection_is_connection_error(
    server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("POST", "/messages", Reply(drop=True))
    with pytest.raises(PachcaError) as caught:
        await pachca.messages.create_message(entity_id=1, content="x")
    assert type(caught.value) is APIConnectionError
    assert count(server, "POST") == 1


async def test_truncated_body_is_connection_error(server: FakePachca, pachca: PachcaClient) -> None:
    async def truncated(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        response.content_type = "application/json"
        await response.prepare(request)
        await response.write(b'{"data": {"id"')
        assert request.transport is not None
        request.transport.close()
        return response

    server.reply("GET", "/messages/5", truncated)
    with pytest.raises(PachcaError) as caught:
        await pachca.messages.get_message(5)
    assert type(caught.value) is APIConnectionError


async def test_non_http_answer_is_connection_error() -> None:
    async def babble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        writer.close()

    babbler = await asyncio.start_server(babble, "127.0.0.1", 0)
    port = babbler.sockets[0].getsockname()[1]
    try:
        async with PachcaClient(
            TOKEN, base_url=f"http://127.0.0.1:{port}", retry=NO_RETRIES
        ) as pachca:
            with pytest.raises(PachcaError) as caught:
                await pachca.messages.get_message(5)
    finally:
        babbler.close()
        await babbler.wait_closed()
    assert type(caught.value) is APIConnectionError
    assert TOKEN not in str(caught.value)


async def test_closed_session_of_the_caller_is_a_typed_error(server: FakePachca) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    async with PachcaClient(TOKEN, base_url=server.base_url, session=session) as pachca:
        with pytest.raises(InvalidRequestError, match=r"session .* is closed"):
            await pachca.messages.get_message(5)
    assert server.calls == []


# -- transport failures a local server cannot stage (aioresponses) -----------------------------

URL = "http://pachca.test/api/shared/v1/messages/5"


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [
        (aiohttp.ConnectionTimeoutError(), ConnectTimeoutError),
        (aiohttp.SocketTimeoutError(), APITimeoutError),
        (TimeoutError(), APITimeoutError),
        (aiohttp.ServerDisconnectedError(), APIConnectionError),
        (aiohttp.ClientPayloadError("Response payload is not completed"), APIConnectionError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), APIConnectionError),
        (ConnectionResetError(104, "reset"), APIConnectionError),
        (aiohttp.InvalidURL("http://[bad"), InvalidRequestError),
    ],
)
async def test_transport_failures_map_to_typed_errors(
    mocked: aioresponses, failure: Exception, error_type: type[PachcaError]
) -> None:
    mocked.get(URL, exception=failure)
    async with PachcaClient(
        TOKEN, base_url="http://pachca.test/api/shared/v1", retry=NO_RETRIES
    ) as pachca:
        with pytest.raises(PachcaError) as caught:
            await pachca.messages.get_message(5)
    assert type(caught.value) is error_type


async def test_a_connect_timeout_is_a_timeout_and_a_connect_error(mocked: aioresponses) -> None:
    mocked.get(URL, exception=aiohttp.ConnectionTimeoutError())
    async with PachcaClient(
        TOKEN, base_url="http://pachca.test/api/shared/v1", retry=NO_RETRIES
    ) as pachca:
        with pytest.raises(APITimeoutError) as caught:
            await pachca.messages.get_message(5)
    assert isinstance(caught.value, ConnectError)  # nothing was sent: safe to retry


def server_body(document: Any) -> bytes:
    """The bytes `FakePachca` sends for `document`."""
    return Reply(json=document).response().body  # type: ignore[return-value]


@pytest.mark.parametrize("seconds", [float("inf"), -1.0, float("nan"), 1e300])
def test_a_rate_limit_error_built_by_hand_is_bounded_too(seconds: float) -> None:
    error = RateLimitError("429", retry_after=seconds, status=429, headers={})
    assert error.retry_after is None or 0.0 <= error.retry_after <= MAX_RETRY_AFTER


# -- every error: a PachcaError, and picklable -------------------------------------------------

HEADERS = CIMultiDictProxy(CIMultiDict({"X-Request-Id": "req-1", "Retry-After": "3"}))
STATUS = {"headers": HEADERS, "body": b'{"errors":[]}', "operation": "messages.get_message"}
ITEM = ApiErrorItem(
    key="content", value=None, message="is invalid", code=ValidationErrorCode.INVALID, payload=None
)
SAMPLES: list[PachcaError] = [
    PachcaError("root"),
    APIStatusError("418", status=418, **STATUS),
    ValidationError("422", status=422, errors=[ITEM], **STATUS),
    SubmitExpiredError("422", status=422, errors=[ITEM], **STATUS),
    AuthenticationError("401", status=401, error="invalid_token", error_description="no", **STATUS),
    PaymentRequiredError("402", status=402, **STATUS),
    PermissionDeniedError("403", status=403, required_scope="messages:read", **STATUS),
    NotFoundError("404", status=404, **STATUS),
    ConflictError("409", status=409, **STATUS),
    GoneError("410", status=410, **STATUS),
    RateLimitError("429", status=429, retry_after=3.0, **STATUS),
    ServerError("503", status=503, **STATUS),
    APIConnectionError("dropped"),
    ConnectError("refused"),
    APITimeoutError("slow"),
    ConnectTimeoutError("no connection in time"),
    ResponseDecodeError("not JSON", status=200, body=b"<html>", operation="messages.get_message"),
    ResponseTooLargeError("too long", status=200, limit=1024, operation="messages.get_message"),
    InvalidRequestError("bad argument"),
    ClientClosedError("closed"),
    EventLoopError("another loop"),
    OperationUnavailableError("Gone_call is not in the openapi.yaml"),
    TriggerExpiredError("late"),
    LeaseLost("another replica polls now"),
    StorageError("refused", status=403, code="AccessDenied", storage_message="denied"),
    UploadError("refused", status=400, code="EntityTooLarge", storage_message="big"),
    DownloadError("refused", status=404, code="NoSuchKey", storage_message="gone"),
    WebhookVerificationError(Failure.WRONG_SIGNATURE, "detail"),
]


def error_classes(root: type[PachcaError] = PachcaError) -> set[type[PachcaError]]:
    """`root` and every subclass the SDK defines."""
    subclasses = [sub for sub in root.__subclasses__() if sub.__module__.startswith("pachca_async")]
    return {root}.union(*(error_classes(sub) for sub in subclasses))


def test_every_error_class_is_sampled() -> None:
    assert {type(error) for error in SAMPLES} == error_classes()


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_errors_survive_pickle_with_their_attributes(error: PachcaError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (str(copy), copy.args) == (str(error), error.args)
    assert vars(copy) == vars(error)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: RetryPolicy(max_retries=-1), "RetryPolicy.max_retries"),
        (lambda: RetryPolicy(max_retries=1.5), "RetryPolicy.max_retries"),
        (lambda: RetryPolicy(backoff=float("nan")), "RetryPolicy.backoff"),
        (lambda: RetryPolicy(max_backoff=-1), "RetryPolicy.max_backoff"),
        (lambda: RetryPolicy(jitter=2), "RetryPolicy.jitter"),
        (lambda: RetryPolicy(max_retry_after="60"), "RetryPolicy.max_retry_after"),
        (lambda: RetryPolicy(deadline=-5), "RetryPolicy.deadline"),
        (lambda: RetryPolicy().with_changes(max_retries=-1), "RetryPolicy.max_retries"),
        (lambda: Timeout(total=0), "Timeout.total"),
        (lambda: Timeout(connect=-1), "Timeout.connect"),
        (lambda: Timeout(read=float("inf")), "Timeout.read"),
        (lambda: PachcaClient(TOKEN, timeout=-3), "timeout"),
        (lambda: PachcaClient(TOKEN, max_retries=-1), "RetryPolicy.max_retries"),
        (lambda: PachcaClient(TOKEN, max_response_size=0), "max_response_size"),
    ],
)
def test_bad_settings_raise_a_pachca_error_naming_the_setting(make: Any, field: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"`{field}` must be"):
        make()
