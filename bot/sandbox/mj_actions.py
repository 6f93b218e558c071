"""Work on finished MJ jobs: button actions, the legacy change calls, and modal completion."""

from __future__ import annotations

import hashlib
import re

from aiohttp import web

from bot.sandbox.context import info_of
from bot.sandbox.errors import mj_distributor_error, mj_relay_error, submit_result
from bot.sandbox.faults import MJ_TASK_FAULTS, strip_markers
from bot.sandbox.files import parse_data_url
from bot.sandbox.mj_buttons import MODAL_ACTIONS, REMIX_ACTIONS, gateway_action, upscale_tile
from bot.sandbox.mj_common import INSTANCE, accept, field_text, new_task, read_body, submit_fault
from bot.sandbox.mj_images import prerender
from bot.sandbox.mj_tasks import aspect_of, buttons_for
from bot.sandbox.state import state_of


async def action(request: web.Request) -> web.Response:
    """POST /mj/submit/action: distributor mapping, relay checks, then upstream's button check."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    custom_id = field_text(body, "customId")
    if not custom_id:
        return mj_distributor_error("custom_id_is_required")
    gateway = gateway_action(custom_id)
    if gateway is None:
        return mj_distributor_error(f"unknown_action:{custom_id}")
    return await _start_action(request, str(body.get("taskId") or ""), custom_id, gateway,
                               field_text(body, "state"))


async def _start_action(request: web.Request, task_id: str, custom_id: str, gateway: str,
                        state_text: str) -> web.Response:
    """Relay checks (owner, SUCCESS), upstream's button check, then the child task."""
    info = info_of(request)
    state = state_of(request)
    parent = state.tasks.get(task_id, info.owner)
    if parent is None:
        return mj_relay_error("task_not_found")
    if state.tasks.phase(parent).status != "SUCCESS":
        return mj_relay_error("task_status_not_success")
    if custom_id not in {button["customId"] for button in buttons_for(parent)}:
        return submit_result(4, "未知的 Action 类型")
    refused = submit_fault(request, parent.prompt)
    if refused is not None:
        return refused
    kind = "upscale" if gateway == "UPSCALE" else "grid"
    tile = parent.tile if parent.kind == "upscale" else upscale_tile(custom_id)
    child = new_task(request, gateway, kind, parent.prompt, prompt_en=parent.prompt_en,
                     final_prompt=parent.final_prompt, state=state_text,
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
    return accept(request, child)


_CHANGE_BUTTONS = {"UPSCALE": "MJ::JOB::upsample::{index}::{hash}",
                   "VARIATION": "MJ::JOB::variation::{index}::{hash}",
                   "REROLL": "MJ::JOB::reroll::0::{hash}::SOLO"}
_SIMPLE = re.compile(r"^\s*(\d+)\s+([UV])([1-4])\s*$|^\s*(\d+)\s+R\s*$", re.I)


async def _legacy_change(request: web.Request, task_id: str, action_name: str, index: int,
                         state_text: str) -> web.Response:
    info = info_of(request)
    parent = state_of(request).tasks.get(task_id, info.owner)
    if parent is None:
        return mj_relay_error("task_not_found")
    custom_id = _CHANGE_BUTTONS[action_name].format(index=index, hash=parent.job_hash)
    return await _start_action(request, task_id, custom_id, action_name, state_text)


async def change(request: web.Request) -> web.Response:
    """POST /mj/submit/change (legacy): `{taskId, action: UPSCALE|VARIATION|REROLL, index}`."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    action_name = str(body.get("action") or "")
    if action_name not in _CHANGE_BUTTONS:
        return submit_result(4, "action参数错误")
    index = body.get("index", 0 if action_name == "REROLL" else None)
    if action_name != "REROLL" and (not isinstance(index, int) or not 1 <= index <= 4):
        return submit_result(4, "index参数错误")
    return await _legacy_change(request, str(body.get("taskId") or ""), action_name,
                                int(index or 0), field_text(body, "state"))


async def simple_change(request: web.Request) -> web.Response:
    """POST /mj/submit/simple-change (legacy): `{content: "<taskId> U2"}` (U1–4, V1–4, R)."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    match = _SIMPLE.match(field_text(body, "content"))
    if match is None:
        return submit_result(4, "content参数错误")
    if match[4]:
        return await _legacy_change(request, match[4], "REROLL", 0, field_text(body, "state"))
    action_name = "UPSCALE" if match[2].upper() == "U" else "VARIATION"
    return await _legacy_change(request, match[1], action_name, int(match[3]),
                                field_text(body, "state"))


async def modal(request: web.Request) -> web.Response:
    """POST /mj/submit/modal: completes a child waiting in MODAL; it then runs like any task."""
    body = await read_body(request)
    if isinstance(body, web.Response):
        return body
    state = state_of(request)
    child = state.tasks.get(str(body.get("taskId") or ""), info_of(request).owner)
    if child is None:
        return mj_relay_error("task_not_found")
    prompt = strip_markers(field_text(body, "prompt"))
    if not prompt:
        return submit_result(4, "参数错误")
    if not child.waiting_modal:
        return submit_result(4, "关联任务状态错误")
    if child.action == "INPAINT" and not _mask_ok(body.get("maskBase64")):
        return submit_result(4, "参数错误")
    refused = submit_fault(request, prompt)
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
    prerender(child, state)
    return submit_result(1, "提交成功", child.id, dict(INSTANCE))


def _mask_ok(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if value.startswith("data:"):
        return parse_data_url(value) is not None
    return parse_data_url(f"data:image/png;base64,{value}") is not None
