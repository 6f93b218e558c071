"""POST /v1/embeddings: deterministic unit vectors seeded by the input text."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import numpy as np
from aiohttp import web

from bot.sandbox.context import info_of
from bot.sandbox.errors import json_response, openai_error
from bot.sandbox.text import count_tokens

DIMENSIONS = {"text-embedding-ada-002": 1536, "text-embedding-3-small": 1536,
              "text-embedding-3-large": 3072}


def vector(text: str, size: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """A unit-length vector that depends only on `text` and `size`."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    values = np.random.default_rng(seed).standard_normal(size).astype(np.float32)
    norm = float(np.linalg.norm(values)) or 1.0
    return (values / norm).astype(np.float32)


def _inputs(raw: object) -> list[str] | None:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(item, str) for item in raw):
            return [str(item) for item in raw]
        if all(isinstance(item, int) for item in raw):
            return [" ".join(map(str, raw))]
        if all(isinstance(item, list) for item in raw):
            return [" ".join(map(str, item)) for item in raw]
    return None


async def embeddings(request: web.Request) -> web.Response:
    """One vector per input: 1536 (ada-002, 3-small), 3072 (3-large), or `dimensions` (v3)."""
    info = info_of(request)
    try:
        body = json.loads(await request.text())
    except json.JSONDecodeError as exc:
        return openai_error(info.request_id, 400, f"invalid request body: {exc}",
                            code="invalid_text_request")
    model = body.get("model") if isinstance(body, dict) else None
    if not isinstance(model, str) or not model:
        return openai_error(info.request_id, 400, "model is required", code="invalid_text_request")
    if model not in DIMENSIONS:
        return openai_error(info.request_id, 503, f"当前分组 default 下对于模型 {model} 无可用渠道")
    texts = _inputs(body.get("input"))
    if texts is None:
        return openai_error(info.request_id, 400, "field input is required",
                            code="invalid_text_request")
    size = DIMENSIONS[model]
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if model == "text-embedding-ada-002":
            return openai_error(info.request_id, 400,
                                "This model does not support specifying dimensions.",
                                type_="invalid_request_error", param="dimensions")
        if type(dimensions) is not int or not 1 <= dimensions <= size:
            return openai_error(info.request_id, 400, f"Invalid value for dimensions: {dimensions}",
                                type_="invalid_request_error", param="dimensions")
        size = dimensions
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        values = vector(text, size)
        encoded: Any = (base64.b64encode(values.tobytes()).decode() if as_base64
                        else [round(float(v), 8) for v in values])
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(max(1, count_tokens(text)) for text in texts)
    return json_response({"object": "list", "data": data, "model": model,
                          "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
