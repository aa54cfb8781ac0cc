"""A canned Pachca API in its own process (`python -m bench.message_server`), for throughput.

It answers `GET /messages/{id}` with one rich message and `GET /messages?chat_id=...` with a
page of 50, from `fixtures`, and `GET /_cpu` with its own CPU seconds so far: a benchmark can
tell whether the server, not the client, was the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

from aiohttp import web

from .fixtures import message_body, page_body
from .report import ROOT

JSON = "application/json"


def app() -> web.Application:
    message, page = message_body(), page_body(50)

    async def get_message(request: web.Request) -> web.Response:
        return web.Response(body=message, content_type=JSON)

    async def list_chat_messages(request: web.Request) -> web.Response:
        if "chat_id" not in request.query:
            return web.Response(status=400, body=b'{"errors":[]}', content_type=JSON)
        return web.Response(body=page, content_type=JSON)

    async def cpu(request: web.Request) -> web.Response:
        return web.Response(text=repr(time.process_time()))

    application = web.Application()
    application.router.add_get("/messages/{id}", get_message)
    application.router.add_get("/messages", list_chat_messages)
    application.router.add_get("/_cpu", cpu)
    return application


async def serve() -> None:
    """Serve on a free port of 127.0.0.1, print the port, run until stdin closes."""
    runner = web.AppRunner(app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, sys.stdin.read)  # the parent closes it to stop us
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def running() -> Iterator[str]:
    """Start the server in a child process; yield its base URL; stop it."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.message_server"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        port = child.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError("the benchmark server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    asyncio.run(serve())
