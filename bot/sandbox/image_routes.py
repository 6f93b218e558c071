"""POST /v1/images/generations (DALL·E 3): a real PNG served by the sandbox, or its base64."""

from __future__ import annotations

import base64
import json
import time
import uuid

from aiohttp import web

from bot.sandbox.context import info_of
from bot.sandbox.drawing import draw
from bot.sandbox.errors import json_response, openai_error
from bot.sandbox.faults import strip_markers
from bot.sandbox.files import FILES_PATH
from bot.sandbox.images import Picture, poster_png
from bot.sandbox.state import state_of

SIZES = {
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
}
MAX_PROMPT = {"dall-e-3": 4000, "dall-e-2": 1000}
BAD_IMAGE = "invalid_image_request"


def revised(prompt: str) -> str:
    """DALL·E 3 rewrites prompts; the sandbox's rewrite is fixed and recognisable."""
    return f"A detailed digital illustration of {prompt}, rendered by the sandbox."


async def generations(request: web.Request) -> web.Response:
    """n=1 only for dall-e-3; sizes per model; `response_format` url or b64_json."""
    info = info_of(request)
    try:
        body = json.loads(await request.text())
    except json.JSONDecodeError as exc:
        return openai_error(info.request_id, 400, f"invalid request body: {exc}",
                            code=BAD_IMAGE)
    if not isinstance(body, dict):
        body = {}
    model = body.get("model") or "dall-e-3"
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return openai_error(info.request_id, 400, "prompt is required", code=BAD_IMAGE)
    if not isinstance(model, str) or model not in SIZES:
        return openai_error(info.request_id, 503, f"当前分组 default 下对于模型 {model} 无可用渠道")
    if len(prompt) > MAX_PROMPT[model]:
        return openai_error(info.request_id, 400, "prompt is too long", code=BAD_IMAGE)
    n = body.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= (1 if model == "dall-e-3" else 10):
        return openai_error(info.request_id, 400, "You must provide n=1 for this model."
                            if model == "dall-e-3" else "n must be between 1 and 10",
                            type_="invalid_request_error", param="n")
    size = body.get("size") or "1024x1024"
    if size not in SIZES[model]:
        allowed = ", ".join(f"'{s}'" for s in SIZES[model])
        return openai_error(info.request_id, 400,
                            f"'{size}' is not one of [{allowed}] - 'size'",
                            type_="invalid_request_error", param="size")
    response_format = body.get("response_format") or "url"
    if response_format not in ("url", "b64_json"):
        return openai_error(info.request_id, 400, f"'{response_format}' is not one of "
                            "['url', 'b64_json'] - 'response_format'",
                            type_="invalid_request_error", param="response_format")
    width, height = (int(part) for part in str(size).split("x"))
    text = strip_markers(prompt)
    state = state_of(request)
    data = []
    for index in range(n):
        picture = Picture(text, f"{uuid.uuid4().hex}:{index}")
        png = await draw(poster_png, picture, (width, height), "DALL·E", index + 1)
        item: dict[str, str] = {"revised_prompt": revised(text)} if model == "dall-e-3" else {}
        if response_format == "b64_json":
            item["b64_json"] = base64.b64encode(png).decode()
        else:
            name = state.files.put(png, "image/png", ".png")
            item["url"] = f"{info.base_url}{FILES_PATH}/{name}"
        data.append(item)
    await state.clock.sleep(6.0)
    return json_response({"created": int(time.time()), "data": data})
