"""Parse speed (issue 2): one 50-message `list_chat_messages` page, from bytes to typed models.

- pachca-async: the path every response takes after the network (`decode`: JSON, then the one
  cattrs converter), with orjson (the `speedups` extra) and with the standard library's json.
- openapi-python-client's stock output (default templates), generated now into a temporary
  folder: `from_dict(json.loads(body))`, what its generated client does with `response.json()`.

Stock output is generated from the normalized spec (`codegen.normalize`): from the raw
openapi.yaml it cannot parse a real page at all (`voice_content: null` crashes it), and the
benchmark shows that too rather than just saying it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import yaml
from multidict import CIMultiDict

from codegen.normalize import normalize
from pachca_async import _decode
from pachca_async._generated.services.messages import LIST_CHAT_MESSAGES
from pachca_async._transport import Request, Response

from .fixtures import page_body
from .report import ROOT, save, table, verdict

STOCK_PAGE_MODEL = "ChatMessageOperationsListChatMessagesResponse200"
ROUNDS = 9
ROUND_SECONDS = 0.2
TARGET = 1.5

Parse = Callable[[bytes], Any]


PAGE_REQUEST = Request("GET", "http://127.0.0.1/messages", LIST_CHAT_MESSAGES)
NO_HEADERS: CIMultiDict[str] = CIMultiDict()


def ours(body: bytes) -> Any:
    """What `PachcaClient` does with a `list_chat_messages` answer once its bytes are in."""
    return _decode.decode(PAGE_REQUEST, Response(200, NO_HEADERS, body), now=0.0)


def stdlib_json() -> contextlib.AbstractContextManager[Any]:
    """Make `decode` use the standard library's json, as without the `speedups` extra."""
    return mock.patch.object(_decode, "loads", json.loads)


def generate_stock(spec: dict[str, Any], folder: Path, name: str) -> ModuleType:
    """openapi-python-client's stock output for `spec`, imported as the package `name`."""
    source = folder / f"{name}.json"
    source.write_text(json.dumps(spec))
    done = subprocess.run(
        [
            *(sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"),
            *("--path", str(source), "--output-path", str(folder / name)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"openapi-python-client failed on {name}:\n{done.stdout}{done.stderr}")
    return importlib.import_module(f"{name}.models")


def stock_parser(models: ModuleType) -> Parse:
    page = getattr(models, STOCK_PAGE_MODEL)
    return lambda body: page.from_dict(json.loads(body))


def failure(parse: Parse, body: bytes) -> str | None:
    """Why `parse` cannot read `body` (the exception and the line that raised), or None."""
    try:
        parse(body)
    except Exception as error:
        lines = [f"`{(f.line or '').strip()}`" for f in traceback.extract_tb(error.__traceback__)]
        return f"{type(error).__name__}: {error}, at {' → '.join(lines[-2:])}"
    return None


def check(name: str, page: Any) -> None:
    items = page.data if hasattr(page, "data") else page.items  # stock's name, then ours
    first = items[0]
    if len(items) != 50 or first.voice_content is not None or first.forwarding is None:
        raise AssertionError(f"{name} parsed the page wrongly: {first!r}")


def calibrate(parse: Parse, body: bytes) -> int:
    """Calls per round so that one round takes about ROUND_SECONDS."""
    started = time.perf_counter()
    parse(body)
    once = time.perf_counter() - started
    return max(1, int(ROUND_SECONDS / max(once, 1e-6)))


def per_call_us(
    contenders: dict[str, tuple[Parse, Callable[[], contextlib.AbstractContextManager[Any]]]],
    body: bytes,
) -> dict[str, float]:
    """Median µs per call of each contender, over rounds that alternate between them."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    counts = {}
    for name, (parse, context) in contenders.items():
        with context():
            for _ in range(3):  # warm up (hooks are compiled on first use)
                parse(body)
            counts[name] = calibrate(parse, body)
    names = list(contenders)
    for round_ in range(ROUNDS):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            parse, context = contenders[name]
            n = counts[name]
            with context():
                gc.collect()
                started = time.perf_counter()
                for _ in range(n):
                    parse(body)
                samples[name].append((time.perf_counter() - started) / n * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


@contextlib.contextmanager
def importable(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))


def main() -> int:
    """Print the table; 0 when the target is met, 1 otherwise."""
    body = page_body(50)
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="stock-") as tmp, importable(Path(tmp)):
        started = time.perf_counter()
        raw_stock = stock_parser(generate_stock(spec, Path(tmp), "stock_raw"))
        stock = stock_parser(generate_stock(normalize(spec), Path(tmp), "stock_normalized"))
        print(f"generated stock output twice in {time.perf_counter() - started:.1f} s")
        raw_failure = failure(raw_stock, body)
        contenders = {
            "pachca-async, orjson": (ours, contextlib.nullcontext),
            "pachca-async, stdlib json": (ours, stdlib_json),
            "openapi-python-client stock, stdlib json": (stock, contextlib.nullcontext),
        }
        for name, (parse, context) in contenders.items():
            with context():
                check(name, parse(body))
        us = per_call_us(contenders, body)

    stock_us = us["openapi-python-client stock, stdlib json"]
    print(
        f"\nOne list_chat_messages page: 50 rich messages, {len(body) / 1024:.0f} KiB of JSON, "
        f"bytes → typed models (median of {ROUNDS} alternating rounds)\n"
    )
    print(
        table(
            ["parser", "µs/page", "pages/s", "speed vs stock"],
            [[name, t, 1e6 / t, f"{stock_us / t:.2f}×"] for name, t in us.items()],
        )
    )
    ratio = stock_us / us["pachca-async, orjson"]
    ratio_json = stock_us / us["pachca-async, stdlib json"]
    print(f"\npachca-async (orjson) vs stock: {ratio:.2f}× faster ({verdict(ratio, TARGET)})")
    print(f"pachca-async (stdlib json) vs stock: {ratio_json:.2f}× faster")
    print(
        "Stock output here is generated from the normalized spec. From the raw openapi.yaml "
        + (
            f"it cannot parse a real page: {raw_failure}"
            if raw_failure
            else "it parsed the page too (the crash on `voice_content: null` is gone)"
        )
    )
    path = save(
        "parse",
        {
            "page_bytes": len(body),
            "rounds": ROUNDS,
            "us_per_page": us,
            "speedup_vs_stock": {"orjson": ratio, "stdlib_json": ratio_json},
            "target": TARGET,
            "raw_spec_stock_failure": raw_failure,
        },
    )
    print(f"saved {path.relative_to(ROOT)}")
    return 0 if ratio >= TARGET else 1
