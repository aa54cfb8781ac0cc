"""The contract run for a binary result and the later form answer, against Prism.

`files.download_file` answers with a file, not JSON: Prism checks the request (path, the
`target` enum, the token) and sends bytes that the SDK streams in; `views.submit_view_response`
sends a JSON body and gets a typed result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pachca_async import APIStatusError, PachcaClient, Request, Response
from pachca_async._middleware import Handler
from pachca_async.models import FileTarget, SubmitViewResponseResult

TOKEN = "contract-test-token"

COVERED_HERE = frozenset({"files.download_file", "views.submit_view_response"})
"""Operations this file runs against Prism (the general run in `test_operations` skips them)."""


class Recorder:
    """A middleware keeping each request and the answer it got."""

    def __init__(self) -> None:
        self.sent: list[tuple[Request, Response]] = []

    async def __call__(self, request: Request, call_next: Handler) -> Response:
        response = await call_next(request)
        self.sent.append((request, response))
        return response


async def _run(prism_url: str, call: Any) -> tuple[Any, Recorder]:
    recorder = Recorder()
    async with PachcaClient(
        TOKEN, base_url=prism_url, max_retries=0, middlewares=[recorder]
    ) as pachca:
        try:
            result = await call(pachca)
        except APIStatusError as error:
            violations = error.headers.get("sl-violations", "(none listed)")
            pytest.fail(f"Prism refused the call: {error}\n{violations}")
    return result, recorder


async def test_download_file_returns_the_bytes(prism_url: str, tmp_path: Path) -> None:
    result, recorder = await _run(
        prism_url, lambda pachca: pachca.files.download_file(3560, target=FileTarget.THUMB)
    )
    [(request, response)] = recorder.sent
    assert response.status == 200
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.params == (("target", "thumb"),)
    assert isinstance(result, bytes)
    assert result  # Prism's example bytes, streamed in, not left in Response.body
    assert response.body == b""

    saved, _ = await _run(
        prism_url, lambda pachca: pachca.files.download_file(3560, to=tmp_path / "thumb.png")
    )
    assert saved.read_bytes() == result


async def test_prism_refuses_a_target_off_the_spec(prism_url: str) -> None:
    async with PachcaClient(TOKEN, base_url=prism_url, max_retries=0) as pachca:
        with pytest.raises(APIStatusError) as caught:
            await pachca.files.download_file(3560, target="poster")
    assert 400 <= caught.value.status < 500
    assert "target" in caught.value.headers.get("sl-violations", "")


async def test_submit_view_response_is_typed(prism_url: str) -> None:
    result, recorder = await _run(
        prism_url,
        lambda pachca: pachca.views.submit_view_response(
            "01KAJZ2XDSS2S3DSW9EXJZ0TBV",
            submit_id="791a056b-006c-49dd-834b-c633fde52fe8",
            errors={"date_end": "Must be after the start"},
        ),
    )
    [(request, response)] = recorder.sent
    assert (request.method, request.path) == (
        "POST",
        "/views/01KAJZ2XDSS2S3DSW9EXJZ0TBV/submit_response",
    )
    assert response.status == 200
    assert isinstance(result, SubmitViewResponseResult)
    assert isinstance(result.success, bool)
