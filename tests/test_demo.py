"""`make demo` as a new user runs it: `examples/demo.py` in a process of its own, judged by its
transcript, its exit code and a silent stderr (no warning, no traceback)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"

TRANSCRIPT = [
    r"no Pachca account, no token; nothing leaves 127\.0\.0\.1",
    r"1\. A stand-in Pachca API \(pachca_async\.testing\.FakePachca\) at http://127\.0\.0\.1:\d+",
    r"2\. The README quick start, through PachcaClient",
    r'create_message\(entity_id=198, content="Hello"\) +-> message 1001',
    r"get_message\(1001\) +-> 'Hello', sent \d\d:\d\d:\d\d UTC",
    r"list_chats\(limit=3\) +-> one page: Sales, Ops, Random; has_next=True",
    r"async for chat in list_chats\(limit=3\) +-> all 7 chats, 3 pages",
    r'add_reaction\(1001, code="👍"\) +-> 👍 from user 1000',
    r"3\. The echo bot \(examples/echo_bot\.py\) receiving webhooks at http://127\.0\.0\.1:\d+/",
    r'webhook: user 7 wrote "ping" in chat 198, signed +-> 200 ok',
    r'POST /messages \{"message": \{"entity_type": "discussion", "entity_id": 198, '
    r'"content": "ping"\}\}',
    r'"ping" changed to "pong" +-> 401 webhook rejected: the signature does not match the body',
    r"the bot did not answer it +-> still one reply",
    r"4\. Stopped the bot, then the API \(9 requests answered, 0 refused\)\. Done in",
]


def test_make_demo_shows_the_main_job_and_exits_cleanly() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(DEMO)],
        capture_output=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    transcript = result.stdout
    position = 0
    for expected in TRANSCRIPT:  # each line, in this order
        found = re.compile(expected).search(transcript, position)
        assert found, f"{expected!r} not found after:\n{transcript[position:]}"
        position = found.end()
    hosts = set(re.findall(r"https?://([^/:\s]+)", transcript))
    assert hosts == {"127.0.0.1"}
