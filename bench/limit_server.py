"""A local stand-in for Pachca that enforces its rate limits, run in its own process.

    python -m bench.limit_server --write 4/20 --read 10/10 --other 50/50

Token buckets as docs/api/limits.md describes them (the same server-side buckets as
`FakePachca(rate_limits=...)`): message writes per token and chat, message reads per token,
everything else per token. A request over the limit gets 429 with `Retry-After`
in whole seconds (rounded up, as HTTP wants). `POST /messages` stores the message; `GET /_stats`
tells how many requests came, how many were refused, and how often each content was stored.
The first line on stdout is `port N`; the server runs until it is terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter, defaultdict
from typing import Any

from aiohttp import web

from pachca_async import Rate, RateLimits
from pachca_async._operation import RateClass
from pachca_async._testing.limits import ServerLimits, retry_after
from pachca_async.testing import message as message_document

API = "/api/shared/v1"
REFUSAL = json.dumps(
    {
        "errors": [
            {"key": "base", "value": None, "message": "Too many requests", "code": "rate_limit"}
        ]
    }
).encode()


class LimitedAPI:
    def __init__(self, write: tuple[float, int], read: tuple[float, int], other: tuple[float, int]):
        self.limits = ServerLimits(
            RateLimits(
                message_write=Rate(write[0], burst=write[1]),
                message_read=Rate(read[0], burst=read[1]),
                other=Rate(other[0], burst=other[1]),
            )
        )
        self.requests = 0
        self.stored: Counter[str] = Counter()
        self.accepted: defaultdict[str, list[float]] = defaultdict(list)  # chat -> times
        self.started = time.monotonic()
        self.next_id = 1

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(f"{API}/messages", self.create_message)
        app.router.add_get(f"{API}/messages/{{id}}", self.get_message)
        app.router.add_get("/_stats", self.stats)
        app.router.add_route("*", f"{API}/{{tail:.*}}", self.other)
        return app

    def refuse(self, request: web.Request, kind: RateClass, *scope: Any) -> web.Response | None:
        self.requests += 1
        token = request.headers.get("Authorization", "")
        wait = self.limits.wait(kind, (token, *scope), time.monotonic())
        if not wait:
            return None
        return web.Response(
            status=429,
            body=REFUSAL,
            content_type="application/json",
            headers={"Retry-After": retry_after(wait)},
        )

    async def create_message(self, request: web.Request) -> web.Response:
        fields = (await request.json())["message"]
        entity = fields.get("entity_type", "discussion"), fields["entity_id"]
        refusal = self.refuse(request, RateClass.MESSAGE_WRITE, *entity)
        if refusal is not None:
            return refusal
        self.stored[fields["content"]] += 1
        self.accepted[f"{entity[0]}:{entity[1]}"].append(time.monotonic() - self.started)
        self.next_id += 1
        return web.json_response(
            {"data": message(self.next_id, *entity, fields["content"])}, status=201
        )

    async def get_message(self, request: web.Request) -> web.Response:
        refusal = self.refuse(request, RateClass.MESSAGE_READ)
        if refusal is not None:
            return refusal
        return web.json_response(
            {"data": message(int(request.match_info["id"]), "discussion", 1, "")}
        )

    async def other(self, request: web.Request) -> web.Response:
        return self.refuse(request, RateClass.OTHER) or web.Response(status=204)

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "requests": self.requests,
                "refused": self.limits.refused,
                "stored": dict(self.stored),
                "accepted": self.accepted,
            }
        )


def message(message_id: int, entity_type: str, entity_id: int, content: str) -> dict[str, Any]:
    """A full message as Pachca returns it, posted where the request said."""
    where = {"entity_type": entity_type, "entity_id": entity_id, "chat_id": entity_id}
    return message_document(message_id, **where, root_chat_id=entity_id, content=content)


def limit(text: str) -> tuple[float, int]:
    """`4/20` → 4 requests a second, bursts of 20."""
    rate, _, burst = text.partition("/")
    return float(rate), int(burst or 1)


async def serve(api: LimitedAPI) -> None:
    runner = web.AppRunner(api.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"port {port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=limit, default=(4.0, 20), help="per token and chat")
    parser.add_argument("--read", type=limit, default=(10.0, 10), help="per token")
    parser.add_argument("--other", type=limit, default=(50.0, 50), help="per token")
    args = parser.parse_args()
    asyncio.run(serve(LimitedAPI(args.write, args.read, args.other)))


if __name__ == "__main__":
    main()
