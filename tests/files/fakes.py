"""For the file tests: scripted answers of Pachca and its storage (both played by one
`FakePachca`, see `reply`), reading back what was sent, and moto's S3 server."""

from __future__ import annotations

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

from pachca_async.testing import Call, FakePachca, Reply, message
from pachca_async.testing import upload_params as pachca_upload_params

TOKEN = "secret-token-7f3a"
Handler = Reply | Callable[[web.Request], Awaitable[web.StreamResponse]]
"""A scripted answer (`FakePachca.reply` takes either)."""


@attrs.frozen
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def requests(server: FakePachca, method: str, path: str) -> list[Call]:
    """The requests that came to `method path`, in order."""
    return [c for c in server.calls if (c.method, c.path) == (method, path)]


def form(call: Call) -> list[Part]:
    """The parts of a multipart request's body."""
    return parse_form(call.headers["Content-Type"], call.raw)


def answer(status: int = 200, body: Any = None, **headers: str) -> Reply:
    """An answer of `status` with `body` (JSON unless bytes or str)."""
    if isinstance(body, bytes):
        return Reply(status, body=body, headers=headers)
    if isinstance(body, str):
        return Reply(status, body=body, headers=headers, content_type="text/plain")
    return Reply(status, json=body, headers=headers)


def s3_error(status: int, code: str, message: str) -> Reply:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId></Error>"
    )
    return Reply(status, body=xml, content_type="application/xml")


def upload_params(storage_url: str, key: str | None = None, **extra: str) -> dict[str, str]:
    """What `POST /uploads` hands out (with `extra` fields before `direct_url`), for a fresh key."""
    params = pachca_upload_params(
        storage_url, key or f"attaches/files/93746/{uuid.uuid4()}/${{filename}}"
    )
    direct_url = params.pop("direct_url")
    return {**params, **extra, "direct_url": direct_url}


def message_answer(status: int = 201) -> Reply:
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
