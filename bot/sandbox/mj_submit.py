"""New MJ jobs: imagine, blend, describe, shorten and face swap."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from aiohttp import web

from bot.sandbox.context import info_of
from bot.sandbox.drawing import draw
from bot.sandbox.errors import mj_relay_error, submit_result
from bot.sandbox.faults import strip_markers
from bot.sandbox.files import FILES_PATH, DataUrl, parse_data_url
from bot.sandbox.images import Picture, poster_png
from bot.sandbox.mj_common import (
    accept,
    field_text,
    new_task,
    read_body,
    store_uploads,
    submit_fault,
)
from bot.sandbox.mj_tasks import Upload, aspect_of
from bot.sandbox.mj_texts import describe_prompts, shorten_text
from bot.sandbox.state import SandboxState, state_of

_LINK = re.compile(r"^https?://.+")
# The size of the stand-in drawn for a link the offline sandbox cannot download.
LINKED_SIZE = (512, 512)

BLEND_ASPECTS = {"PORTRAIT": (2, 3), "SQUARE": (1, 1), "LANDSCAPE": (3, 2)}


async def imagine(request: web.Request) -> web.Response:
    """POST /mj/submit/imagine."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    prompt = strip_markers(field_text(body, "prompt"))
    if not prompt:
        return mj_relay_error("prompt_is_required")
    refused = submit_fault(request, prompt)
    if refused is not None:
        return refused
    raw_images = body.get("base64Array") or []
    if isinstance(body.get("base64"), str) and body["base64"]:
        raw_images = [*raw_images, body["base64"]] if isinstance(raw_images, list) else raw_images
    if not isinstance(raw_images, list):
        return submit_result(4, "base64格式错误")
    uploads = [parse_data_url(item) for item in raw_images]
    if any(upload is None for upload in uploads):
        return submit_result(4, "base64格式错误")
    valid = [upload for upload in uploads if upload is not None]
    urls = store_uploads(state_of(request), info_of(request).base_url, valid)
    prompt_en = " ".join([*urls, prompt])
    task = new_task(request, "IMAGINE", "grid", prompt, prompt_en=prompt_en,
                    state=field_text(body, "state"), aspect=aspect_of(prompt))
    return accept(request, task)


async def blend(request: web.Request) -> web.Response:
    """POST /mj/submit/blend: 2–5 data URLs and a dimensions name; the result is a grid."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    raw = body.get("base64Array")
    if not isinstance(raw, list) or not 2 <= len(raw) <= 5:
        return submit_result(4, "base64List参数错误")
    dimensions = body.get("dimensions", "SQUARE")
    if not isinstance(dimensions, str) or dimensions not in BLEND_ASPECTS:
        return submit_result(4, "dimensions参数错误")
    uploads = [parse_data_url(item) for item in raw]
    valid = [upload for upload in uploads if upload is not None]
    if len(valid) != len(uploads):
        return submit_result(4, "base64格式错误")
    refused = submit_fault(request, "")
    if refused is not None:
        return refused
    aspect = BLEND_ASPECTS[str(dimensions)]
    urls = store_uploads(state_of(request), info_of(request).base_url, valid)
    prompt_en = " ".join(urls) + f" --ar {aspect[0]}:{aspect[1]}"
    task = new_task(request, "BLEND", "grid", "", prompt_en=prompt_en,
                    state=field_text(body, "state"), aspect=aspect,
                    uploads=[Upload(u.data, u.mime) for u in valid])
    return accept(request, task)


async def describe(request: web.Request) -> web.Response:
    """POST /mj/submit/describe: `base64` (a data URL) or `link` (an http(s) URL, as the plus
    proxy accepts); SUCCESS carries four prompts and the image as imageUrl."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    raw, link = field_text(body, "base64"), field_text(body, "link")
    if not raw and not link:
        return submit_result(4, "base64或link不能为空")
    if link and not _LINK.match(link):
        return submit_result(4, "链接格式错误")
    if raw:
        upload = parse_data_url(raw)
        if upload is None:
            return submit_result(4, "base64格式错误")
    else:
        upload = await _linked_image(state_of(request), link)
    refused = submit_fault(request, "")
    if refused is not None:
        return refused
    prompts = await asyncio.to_thread(describe_prompts, upload)
    task = new_task(request, "DESCRIBE", "describe", "", prompt_en=prompts, final_prompt=prompts,
                    state=field_text(body, "state"), uploads=[Upload(upload.data, upload.mime)])
    return accept(request, task)


async def _linked_image(state: SandboxState, link: str) -> DataUrl:
    """The image behind `link`: a file this sandbox serves (a DALL·E result, an upload) is
    read back; any other URL is out of reach offline, so a picture naming it stands in."""
    path = urlsplit(link).path
    if path.startswith(FILES_PATH + "/"):
        found = await state.files.get(path.removeprefix(FILES_PATH + "/"))
        if found is not None:
            data, content_type = found
            return DataUrl(content_type, data)
    png = await draw(poster_png, Picture(link, link), LINKED_SIZE, "link", 1)
    return DataUrl("image/png", png)


async def shorten(request: web.Request) -> web.Response:
    """POST /mj/submit/shorten."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    prompt = strip_markers(field_text(body, "prompt"))
    if not prompt:
        return submit_result(4, "prompt不能为空")
    refused = submit_fault(request, prompt)
    if refused is not None:
        return refused
    analysis = shorten_text(prompt)
    task = new_task(request, "SHORTEN", "shorten", prompt, prompt_en=analysis,
                    final_prompt=analysis, state=field_text(body, "state"))
    return accept(request, task)


async def swap_face(request: web.Request) -> web.Response:
    """POST /mj/insight-face/swap: a single image, no buttons, prompt `InsightFace`."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    source_raw = body.get("sourceBase64") or ""
    target_raw = body.get("targetBase64") or ""
    if not source_raw or not target_raw:
        return mj_relay_error("sour_base64_and_target_base64_is_required")
    source, target = parse_data_url(source_raw), parse_data_url(target_raw)
    if source is None:
        return submit_result(4, "人脸图片格式错误")
    if target is None:
        return submit_result(4, "目标图片格式错误")
    if source.data == target.data:
        return submit_result(4, "人脸图片和目标图片不能相同")
    refused = submit_fault(request, "")
    if refused is not None:
        return refused
    task = new_task(request, "SWAP_FACE", "swap", "InsightFace", prompt_en="InsightFace",
                    state=field_text(body, "state"),
                    uploads=[Upload(source.data, source.mime), Upload(target.data, target.mime)])
    return accept(request, task)
