"""Handlers of the /mj/* relay: submits, action, modal, fetch, list, image-seed, image proxy."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from typing import Any

from aiohttp import web

from bot.sandbox.context import info_of
from bot.sandbox.errors import (
    json_response,
    mj_distributor_error,
    mj_relay_error,
    submit_result,
)
from bot.sandbox.faults import MJ_TASK_FAULTS, strip_markers
from bot.sandbox.files import FILES_PATH, DataUrl, parse_data_url
from bot.sandbox.images import Picture, grid_png, grid_size, image_facts, preview_png, single_png
from bot.sandbox.mj_buttons import MODAL_ACTIONS, REMIX_ACTIONS, gateway_action, upscale_tile
from bot.sandbox.mj_tasks import Task, Upload, aspect_of, buttons_for, phase_of, task_view
from bot.sandbox.state import SandboxState, state_of

INSTANCE = {"discordInstanceId": "1118138338562560102"}
# Midjourney's fast-mode concurrency: more unfinished jobs than this and the submit says 排队中.
CONCURRENCY = 3
BLEND_ASPECTS = {"PORTRAIT": (2, 3), "SQUARE": (1, 1), "LANDSCAPE": (3, 2)}

Body = dict[str, Any]


async def _read_body(request: web.Request) -> Body | web.Response:
    """The JSON object body, or the distributor's code-5 envelope when it does not parse."""
    raw = await request.text()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return mj_distributor_error(f"无效的请求, {exc}", code=5)
    if not isinstance(body, dict):
        return mj_distributor_error("无效的请求, json: cannot unmarshal into request", code=5)
    return body


def _text(body: Body, key: str) -> str:
    value = body.get(key)
    return value.strip() if isinstance(value, str) else ""


def _submit_fault(request: web.Request, prompt: str) -> web.Response | None:
    """Codes 24 and 23 that upstream answers instead of creating a task."""
    fault = info_of(request).fault_name
    if fault == "banned":
        words = prompt.split()
        return submit_result(24, "可能包含敏感词", properties={
            "promptEn": prompt, "bannedWord": words[0] if words else "banned"})
    if fault == "queue_full":
        return submit_result(23, "队列已满，请稍后尝试", properties={"numberOfQueues": 10})
    return None


def _store_uploads(state: SandboxState, base_url: str, uploads: list[DataUrl]) -> list[str]:
    """Keep uploads where a CDN would, returning their URLs (MJ prefixes prompts with them)."""
    urls = []
    for upload in uploads:
        suffix = "." + (upload.mime.split("/")[-1] or "bin")
        urls.append(f"{base_url}{FILES_PATH}/{state.files.put(upload.data, upload.mime, suffix)}")
    return urls


def _accept(request: web.Request, task: Task) -> web.Response:
    """Store the task and answer code 1 (22 is rewritten to 1 by the gateway, description kept)."""
    state = state_of(request)
    ahead = state.tasks.queued_ahead(task.owner)
    properties: dict[str, Any] = dict(INSTANCE)
    if ahead >= CONCURRENCY:
        waiting = ahead - CONCURRENCY + 1
        task.description = f"排队中，前面还有{waiting}个任务"
        properties["numberOfQueues"] = waiting
    state.tasks.add(task)
    return submit_result(1, task.description, task.id, properties)


def _new_task(request: web.Request, action: str, kind: str, prompt: str, **extra: Any) -> Task:
    state = state_of(request)
    info = info_of(request)
    now = state.clock.now()
    fault = info.fault_name if info.fault_name in MJ_TASK_FAULTS else None
    return Task(id=state.tasks.new_id(), owner=info.owner, action=action, kind=kind, prompt=prompt,
                submitted_at=now, run_from=now, fault=fault, **extra)


async def imagine(request: web.Request) -> web.Response:
    """POST /mj/submit/imagine."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    prompt = strip_markers(_text(body, "prompt"))
    if not prompt:
        return mj_relay_error("prompt_is_required")
    refused = _submit_fault(request, prompt)
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
    urls = _store_uploads(state_of(request), info_of(request).base_url, valid)
    prompt_en = " ".join([*urls, prompt])
    task = _new_task(request, "IMAGINE", "grid", prompt, prompt_en=prompt_en,
                     state=_text(body, "state"), aspect=aspect_of(prompt))
    return _accept(request, task)


async def action(request: web.Request) -> web.Response:
    """POST /mj/submit/action: distributor mapping, relay checks, then upstream's button check."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    custom_id = _text(body, "customId")
    if not custom_id:
        return mj_distributor_error("custom_id_is_required")
    gateway = gateway_action(custom_id)
    if gateway is None:
        return mj_distributor_error(f"unknown_action:{custom_id}")
    info = info_of(request)
    state = state_of(request)
    parent = state.tasks.get(str(body.get("taskId") or ""), info.owner)
    if parent is None:
        return mj_relay_error("task_not_found")
    if phase_of(parent, state.clock.now()).status != "SUCCESS":
        return mj_relay_error("task_status_not_success")
    if custom_id not in {button["customId"] for button in buttons_for(parent)}:
        return submit_result(4, "未知的 Action 类型")
    refused = _submit_fault(request, parent.prompt)
    if refused is not None:
        return refused
    kind = "upscale" if gateway == "UPSCALE" else "grid"
    tile = parent.tile if parent.kind == "upscale" else upscale_tile(custom_id)
    child = _new_task(request, gateway, kind, parent.prompt, prompt_en=parent.prompt_en,
                      final_prompt=parent.final_prompt, state=_text(body, "state"),
                      aspect=parent.aspect, tile=tile, parent_id=parent.id, seed=parent.seed)
    if gateway in MODAL_ACTIONS:
        child.waiting_modal = True
        state.tasks.add(child)
        return submit_result(21, "Waiting for window confirm", child.id, {
            "finalPrompt": parent.final_prompt or parent.prompt_en, "remix": True})
    if info.fault_name == "remix" and gateway in REMIX_ACTIONS:
        child.waiting_modal = True
    if child.kind == "grid":
        child.seed = hashlib.sha256(f"{parent.seed}|{custom_id}|{child.id}".encode()).hexdigest()
    return _accept(request, child)


async def modal(request: web.Request) -> web.Response:
    """POST /mj/submit/modal: completes a child waiting in MODAL; it then runs like any task."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    state = state_of(request)
    child = state.tasks.get(str(body.get("taskId") or ""), info_of(request).owner)
    if child is None:
        return mj_relay_error("task_not_found")
    prompt = strip_markers(_text(body, "prompt"))
    if not prompt:
        return submit_result(4, "参数错误")
    if not child.waiting_modal:
        return submit_result(4, "关联任务状态错误")
    if child.action == "INPAINT" and not _mask_ok(body.get("maskBase64")):
        return submit_result(4, "参数错误")
    refused = _submit_fault(request, prompt)
    if refused is not None:
        return refused
    child.waiting_modal = False
    child.run_from = state.clock.now()
    child.final_prompt = prompt
    child.prompt_en = prompt
    child.aspect = aspect_of(prompt) if "--ar" in prompt or "--aspect" in prompt else child.aspect
    fault = info_of(request).fault_name
    if fault in MJ_TASK_FAULTS:
        child.fault = fault
    return submit_result(1, "提交成功", child.id, dict(INSTANCE))


def _mask_ok(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if value.startswith("data:"):
        return parse_data_url(value) is not None
    return parse_data_url(f"data:image/png;base64,{value}") is not None


async def blend(request: web.Request) -> web.Response:
    """POST /mj/submit/blend: 2–5 data URLs and a dimensions name; the result is a grid."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    raw = body.get("base64Array")
    if not isinstance(raw, list) or not 2 <= len(raw) <= 5:
        return submit_result(4, "base64List参数错误")
    dimensions = body.get("dimensions", "SQUARE")
    if dimensions not in BLEND_ASPECTS:
        return submit_result(4, "dimensions参数错误")
    uploads = [parse_data_url(item) for item in raw]
    valid = [upload for upload in uploads if upload is not None]
    if len(valid) != len(uploads):
        return submit_result(4, "base64格式错误")
    refused = _submit_fault(request, "")
    if refused is not None:
        return refused
    aspect = BLEND_ASPECTS[str(dimensions)]
    urls = _store_uploads(state_of(request), info_of(request).base_url, valid)
    prompt_en = " ".join(urls) + f" --ar {aspect[0]}:{aspect[1]}"
    task = _new_task(request, "BLEND", "grid", "", prompt_en=prompt_en, state=_text(body, "state"),
                     aspect=aspect, uploads=[Upload(u.data, u.mime) for u in valid])
    return _accept(request, task)


def describe_prompts(upload: DataUrl) -> str:
    """Four numbered prompts derived only from the image: its size and main colour."""
    facts = image_facts(upload.data)
    if facts is None:
        colour, width, height = "muted", 1, 1
        subject = f"an abstract {len(upload.data)}-byte pattern"
    else:
        colour, width, height = facts.colour, facts.width, facts.height
        subject = f"a {colour} picture of {width}x{height} pixels"
    divisor = math.gcd(width, height) or 1
    ar = f"--ar {width // divisor}:{height // divisor}"
    options = (
        f"{subject}, soft light {ar}",
        f"{colour} abstract shapes on a plain background {ar}",
        f"minimalist {colour} composition, high detail {ar}",
        f"a photograph dominated by {colour} tones {ar}",
    )
    emojis = ("1️⃣", "2️⃣", "3️⃣", "4️⃣")
    return "\n\n".join(f"{emoji} {text}" for emoji, text in zip(emojis, options, strict=True))


async def describe(request: web.Request) -> web.Response:
    """POST /mj/submit/describe: SUCCESS carries four prompts and the upload as imageUrl."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    raw = body.get("base64")
    if not raw:
        return submit_result(4, "base64不能为空")
    upload = parse_data_url(raw)
    if upload is None:
        return submit_result(4, "base64格式错误")
    refused = _submit_fault(request, "")
    if refused is not None:
        return refused
    prompts = await asyncio.to_thread(describe_prompts, upload)
    task = _new_task(request, "DESCRIBE", "describe", "", prompt_en=prompts, final_prompt=prompts,
                     state=_text(body, "state"), uploads=[Upload(upload.data, upload.mime)])
    return _accept(request, task)


_PARAMS = re.compile(r"\s--\S+(?:\s+[^-\s]\S*)?")


def shorten_text(prompt: str) -> str:
    """The bot's analysis embed: important tokens, then `Shortened prompts` and five options."""
    params = "".join(_PARAMS.findall(" " + prompt)).strip()
    words = _PARAMS.sub("", " " + prompt).split()
    options = []
    for keep in (1.0, 0.8, 0.6, 0.45, 0.3):
        count = max(1, round(len(words) * keep))
        options.append(" ".join(words[:count] + ([params] if params else [])))
    lines = ["**IMPORTANT TOKENS**", ", ".join(words[:5]), "", "**Shortened prompts**"]
    emojis = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
    lines += [f"{emoji} {option}" for emoji, option in zip(emojis, options, strict=True)]
    return "\n".join(lines)


async def shorten(request: web.Request) -> web.Response:
    """POST /mj/submit/shorten."""
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    prompt = strip_markers(_text(body, "prompt"))
    if not prompt:
        return submit_result(4, "prompt不能为空")
    refused = _submit_fault(request, prompt)
    if refused is not None:
        return refused
    text = shorten_text(prompt)
    task = _new_task(request, "SHORTEN", "shorten", prompt, prompt_en=text, final_prompt=text,
                     state=_text(body, "state"))
    return _accept(request, task)


async def swap_face(request: web.Request) -> web.Response:
    """POST /mj/insight-face/swap: a single image, no buttons, prompt `InsightFace`."""
    body = await _read_body(request)
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
    refused = _submit_fault(request, "")
    if refused is not None:
        return refused
    task = _new_task(request, "SWAP_FACE", "swap", "InsightFace", prompt_en="InsightFace",
                     state=_text(body, "state"),
                     uploads=[Upload(source.data, source.mime), Upload(target.data, target.mime)])
    return _accept(request, task)


async def fetch(request: web.Request) -> web.Response:
    """GET /mj/task/{id}/fetch: the caller's task, else 400 task_no_found."""
    state = state_of(request)
    info = info_of(request)
    task = state.tasks.get(request.match_info["id"], info.owner)
    if task is None:
        return mj_relay_error("task_no_found")
    return json_response(task_view(task, state.clock, info.base_url))


async def list_by_condition(request: web.Request) -> web.Response:
    """POST /mj/task/list-by-condition: the caller's tasks among `ids`, unknown ones omitted."""
    raw = await request.text()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return mj_relay_error("do_request_failed")
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list):
        return json_response([])
    state = state_of(request)
    info = info_of(request)
    found = [state.tasks.get(str(task_id), info.owner) for task_id in ids]
    views = [task_view(task, state.clock, info.base_url) for task in found if task is not None]
    return json_response(views)


async def image_seed(request: web.Request) -> web.Response:
    """GET /mj/task/{id}/image-seed: the seed of a finished image job."""
    state = state_of(request)
    task = state.tasks.get(request.match_info["id"], info_of(request).owner)
    if task is None:
        return mj_relay_error("task_no_found")
    done = phase_of(task, state.clock.now()).status == "SUCCESS"
    if not done or task.kind not in ("grid", "upscale"):
        return json_response({"code": 4, "description": "关联任务状态错误"}, status=400)
    seed = int(hashlib.sha256(task.job_hash.encode()).hexdigest(), 16) % 4_294_967_295
    return json_response({"code": 1, "description": "成功", "result": str(seed)})


def _picture_text(task: Task) -> str:
    if task.kind in ("grid", "upscale") and task.final_prompt:
        return task.final_prompt
    return task.prompt or task.action.lower()


def render_final(task: Task) -> bytes:
    """The finished image of a task (runs in a worker thread)."""
    picture = Picture(_picture_text(task), task.seed, task.job_hash, task.id)
    size = grid_size(task.aspect)
    if task.kind == "grid":
        return grid_png(picture, size)
    if task.kind == "upscale":
        return single_png(picture, size, f"U{task.tile}", task.tile)
    return single_png(picture, size, "swapped", 2)


async def mj_image(request: web.Request) -> web.Response:
    """GET /mj/image/{id}: no auth; the preview while running, the result once SUCCESS."""
    state = state_of(request)
    task = state.tasks.get_any(request.match_info["id"])
    missing = json_response({"error": "midjourney_task_not_found"}, status=400)
    if task is None:
        return missing
    status = phase_of(task, state.clock.now()).status
    words = "_".join(_picture_text(task).split()[:4]) or task.action.lower()
    safe = re.sub(r"[^A-Za-z0-9_]", "", words)[:60] or "image"
    if status == "SUCCESS" and task.kind == "describe" and task.uploads:
        upload = task.uploads[0]
        return web.Response(body=upload.data, content_type=upload.mime)
    if status == "SUCCESS" and task.kind != "shorten":
        if task.image_png is None:
            task.image_png = await asyncio.to_thread(render_final, task)
        disposition = f'inline; filename="sandbox_{safe}_{task.job_hash}.png"'
        return web.Response(body=task.image_png, content_type="image/png",
                            headers={"Content-Disposition": disposition})
    if status == "IN_PROGRESS" and task.kind in ("grid", "upscale", "swap"):
        picture = Picture(_picture_text(task), task.seed)
        data = await asyncio.to_thread(preview_png, picture, grid_size(task.aspect))
        preview = f'inline; filename="{safe}_grid_0.png"'
        return web.Response(body=data, content_type="image/png",
                            headers={"Content-Disposition": preview})
    return missing
