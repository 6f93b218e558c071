"""What every MJ submit shares: body parsing, refusals by fault, task creation and acceptance."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.sandbox.context import info_of
from bot.sandbox.errors import mj_distributor_error, submit_result
from bot.sandbox.faults import MJ_TASK_FAULTS
from bot.sandbox.files import FILES_PATH, DataUrl
from bot.sandbox.mj_images import prerender
from bot.sandbox.mj_tasks import Task
from bot.sandbox.state import SandboxState, state_of

INSTANCE = {"discordInstanceId": "1118138338562560102"}
# Midjourney's fast-mode concurrency: more unfinished jobs than this and the submit says 排队中.
CONCURRENCY = 3

Body = dict[str, Any]


async def read_body(request: web.Request) -> Body | web.Response:
    """The JSON object body, or the distributor's code-5 envelope when it does not parse."""
    raw = await request.text()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return mj_distributor_error(f"无效的请求, {exc}", code=5)
    if not isinstance(body, dict):
        return mj_distributor_error("无效的请求, json: cannot unmarshal into request", code=5)
    return body


def field_text(body: Body, key: str) -> str:
    """A trimmed string field, "" when absent or not a string."""
    value = body.get(key)
    return value.strip() if isinstance(value, str) else ""


def submit_fault(request: web.Request, prompt: str) -> web.Response | None:
    """Codes 24 and 23 that upstream answers instead of creating a task."""
    fault = info_of(request).fault_name
    if fault == "banned":
        words = prompt.split()
        return submit_result(24, "可能包含敏感词", properties={
            "promptEn": prompt, "bannedWord": words[0] if words else "banned"})
    if fault == "queue_full":
        return submit_result(23, "队列已满，请稍后尝试", properties={"numberOfQueues": 10})
    return None


def store_uploads(state: SandboxState, base_url: str, uploads: list[DataUrl]) -> list[str]:
    """Keep uploads where a CDN would, returning their URLs (MJ prefixes prompts with them)."""
    urls = []
    for upload in uploads:
        suffix = "." + (upload.mime.split("/")[-1] or "bin")
        urls.append(f"{base_url}{FILES_PATH}/{state.files.put(upload.data, upload.mime, suffix)}")
    return urls


def accept(request: web.Request, task: Task) -> web.Response:
    """Store the task and answer code 1 (22 is rewritten to 1 by the gateway, description kept)."""
    state = state_of(request)
    ahead = state.tasks.queued_ahead(task.owner)
    properties: dict[str, Any] = dict(INSTANCE)
    if ahead >= CONCURRENCY:
        waiting = ahead - CONCURRENCY + 1
        task.description = f"排队中，前面还有{waiting}个任务"
        properties["numberOfQueues"] = waiting
    state.tasks.add(task)
    prerender(task, state)
    return submit_result(1, task.description, task.id, properties)


def new_task(
    request: web.Request, action: str, kind: str, prompt: str, **extra: Any
) -> Task:
    """A task owned by the caller, carrying the request's task fault (mj_failure, stuck)."""
    state = state_of(request)
    info = info_of(request)
    now = state.clock.now()
    fault = info.fault_name if info.fault_name in MJ_TASK_FAULTS else None
    return Task(id=state.tasks.new_id(), owner=info.owner, action=action, kind=kind, prompt=prompt,
                submitted_at=now, run_from=now, fault=fault, **extra)


