"""Odd bodies never crash the sandbox: every route answers with its documented error shapes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.contract.conftest import png_data_url

PNG, PNG2 = png_data_url((1, 2, 3)), png_data_url((200, 100, 0))
VALID: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
                             "max_tokens": 5, "stream": False, "stream_options": None},
    "/v1/completions": {"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "max_tokens": 5},
    "/v1/embeddings": {"model": "text-embedding-3-small", "input": "hi", "dimensions": 8,
                       "encoding_format": "float"},
    "/v1/images/generations": {"model": "dall-e-3", "prompt": "hi", "n": 1, "size": "1024x1024",
                               "response_format": "b64_json"},
    "/v1/audio/speech": {"model": "tts-1", "input": "hi", "voice": "alloy",
                         "response_format": "wav", "speed": 1.0},
    "/mj/submit/imagine": {"prompt": "hi", "base64Array": [PNG], "state": "s"},
    "/mj/submit/action": {"taskId": "1", "customId": "MJ::JOB::upsample::1::x"},
    "/mj/submit/modal": {"taskId": "1", "prompt": "x", "maskBase64": PNG},
    "/mj/submit/blend": {"base64Array": [PNG, PNG2], "dimensions": "SQUARE"},
    "/mj/submit/describe": {"base64": PNG},
    "/mj/submit/shorten": {"prompt": "a b c"},
    "/mj/insight-face/swap": {"sourceBase64": PNG, "targetBase64": PNG2},
    "/mj/submit/change": {"taskId": "1", "action": "UPSCALE", "index": 1},
    "/mj/submit/simple-change": {"content": "1 U1"},
    "/mj/task/list-by-condition": {"ids": ["1"]},
}
ODD: list[object] = [None, True, -1, "x", ["x"], {"a": 1}]


@pytest.mark.parametrize("route", list(VALID))
async def test_odd_field_types_never_cause_a_5xx(client: httpx.AsyncClient, route: str) -> None:
    valid = VALID[route]
    bodies: list[object] = [valid, [], "text", 3, None]
    bodies += [{**valid, field: value} for field in valid for value in ODD]
    if "messages" in valid:
        bodies += [{**valid, "messages": [{"role": "user", "content": value}]} for value in ODD]
        bodies += [{**valid, "messages": [value]} for value in ODD]
    responses = await asyncio.gather(*(client.post(route, json=body) for body in bodies))
    for body, response in zip(bodies, responses, strict=True):
        no_channel = response.status_code == 503 and "无可用渠道" in response.text
        assert response.status_code < 500 or no_channel, (route, body, response.text)
        if response.headers["Content-Type"].startswith("application/json"):
            response.json()
