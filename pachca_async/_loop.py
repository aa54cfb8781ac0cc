"""One event loop per object: a client or rate limiter used from a second loop fails clearly.

What such an object holds (futures, aiohttp's session and its connections) belongs to the loop
it was made in. Used from another thread's loop it would hang forever; from a later
`asyncio.run` it would fail with aiohttp's bare "Event loop is closed". `check_loop` turns
both into an `EventLoopError` saying what to do, at the cost of one dictionary lookup.
"""

from __future__ import annotations

import asyncio

from ._exceptions import EventLoopError

_BOUND = "_pachca_event_loop"


def check_loop(owner: object, what: str) -> asyncio.AbstractEventLoop:
    """Tie `owner` to the running event loop on first use; from another loop, raise.

    Returns the loop, so a caller may remember it and skip the check while it runs there.
    """
    loop = asyncio.get_running_loop()
    # one step, so that two threads using `owner` at once cannot both bind it
    bound: asyncio.AbstractEventLoop = vars(owner).setdefault(_BOUND, loop)
    if bound is not loop:
        raise EventLoopError(
            f"this {what} belongs to the event loop it was first used in (another thread's, "
            f"or an earlier asyncio.run's): make one {what} per event loop"
        )
    return loop
