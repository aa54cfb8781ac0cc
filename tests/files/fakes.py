"""Local servers for the file tests: a recording stand-in for Pachca and its storage, and moto."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import boto3
from aiohttp import web
from botocore.config import Config
from moto.server import ThreadedMotoServer
from multidict import CIMultiDictProxy

from pachca_async.testing import message
from pachca_async.testing import upload_params as pachca_upload_params

TOKEN = "secret-token-7f3a"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.frozen
class Seen:
    """A request as it arrived: method, path, headers and the raw body."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]
    raw_headers: bytes
    body: bytes

    @property
    def form(self) -> list[Part]:
        return parse_form(self.headers["Content-Type"], self.body)


@attrs.frozen
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


class FakeServer:
    """One aiohttp server on 127.0.0.1 playing Pachca's API and its file storage.

    `on(method, path, *handlers)` queues answers for a route: each request takes the next one,
    the last one answers everything after. Every request is recorded in `seen`, body included,
    unless its handler reads the body itself (`streaming=True`); one whose body never arrived
    whole is not.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Handler]] = {}
        self.streaming: set[tuple[str, str]] = set()
        self.seen: list[Seen] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    def on(self, method: str, path: str, *handlers: Handler, streaming: bool = False) -> None:
        self.routes[(method, path)] = list(handlers)
        if streaming:
            self.streaming.add((method, path))

    def requests(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if (s.method, s.path) == (method, path)]

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        route = (request.method, request.path)
        raw = b"\r\n".join(k + b": " + v for k, v in request.raw_headers)
        try:
            body = b"" if route in self.streaming else await request.read()
        except ConnectionResetError:  # the client gave up before the body was complete
            return web.Response(status=400)
        self.seen.append(Seen(request.method, request.path, request.headers, raw, body))
        queue = self.routes.get(route)
        if not queue:
            return web.Response(status=404, text=f"no route for {route}")
        handler = queue.pop(0) if len(queue) > 1 else queue[0]
        return await handler(request)


def answer(status: int = 200, body: Any = None, **headers: str) -> Handler:
    """A handler that answers `status` with `body` (JSON unless bytes or str)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if isinstance(body, bytes):
            return web.Response(status=status, body=body, headers=headers)
        if isinstance(body, str):
            return web.Response(status=status, text=body, headers=headers)
        text = None if body is None else json.dumps(body)
        return web.Response(
            status=status, text=text, content_type="application/json", headers=headers
        )

    return handle


def s3_error(status: int, code: str, message: str) -> Handler:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId></Error>"
    )
    return answer(status, xml.encode(), **{"Content-Type": "application/xml"})


def upload_params(storage_url: str, key: str | None = None, **extra: str) -> dict[str, str]:
    """What `POST /uploads` hands out (with `extra` fields before `direct_url`), for a fresh key."""
    params = pachca_upload_params(
        storage_url, key or f"attaches/files/93746/{uuid.uuid4()}/${{filename}}"
    )
    direct_url = params.pop("direct_url")
    return {**params, **extra, "direct_url": direct_url}


def message_answer(status: int = 201) -> Handler:
    return answer(status, {"data": message(194275)})


def parse_form(content_type: str, body: bytes) -> list[Part]:
    """A multipart/form-data body split into its parts, strictly (any framing error fails)."""
    boundary = content_type.split("boundary=", 1)[1].encode()
    chunks = body.split(b"--" + boundary)
    assert chunks[0] == b"", "the body starts with the first boundary"
    assert chunks[-1] == b"--\r\n", "the body ends with the closing boundary"
    parts = []
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n")
        assert chunk.endswith(b"\r\n")
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n"))
        disposition = headers["Content-Disposition"]
        name = re.search(r'(?:^|; )name="([^"]*)"', disposition)
        filename = re.search(r'; filename="([^"]*)"', disposition)
        assert name is not None
        parts.append(
            Part(
                name.group(1),
                filename.group(1) if filename else None,
                headers.get("Content-Type"),
                data,
            )
        )
    return parts


class Moto:
    """moto's S3 in server mode on 127.0.0.1, with one bucket and presigned POST forms."""

    BUCKET = "pachca-uploads"

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self.s3 = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(signature_version="s3v4"),
        )
        self.s3.create_bucket(Bucket=self.BUCKET)

    def upload_params(self, bucket: str = BUCKET) -> dict[str, str]:
        """A `POST /uploads` answer: SigV4 presigned POST fields for a fresh key, as Pachca's."""
        prefix = f"attaches/files/93746/{uuid.uuid4()}/"
        post = self.s3.generate_presigned_post(
            bucket,
            prefix + "${filename}",
            Fields={"Content-Disposition": "attachment", "acl": "private"},
            Conditions=[
                {"Content-Disposition": "attachment"},
                {"acl": "private"},
                ["starts-with", "$key", prefix],
            ],
            ExpiresIn=3600,
        )
        return {**post["fields"], "direct_url": post["url"]}

    def read(self, key: str) -> bytes:
        data: bytes = self.s3.get_object(Bucket=self.BUCKET, Key=key)["Body"].read()
        return data

    def stop(self) -> None:
        self.server.stop()
