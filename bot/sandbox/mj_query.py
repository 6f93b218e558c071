"""Reading MJ jobs: fetch, list-by-condition and image-seed (only the caller's own tasks)."""

from __future__ import annotations

import hashlib
import json

from aiohttp import web

from bot.sandbox.context import info_of
from bot.sandbox.errors import json_response, mj_relay_error
from bot.sandbox.mj_tasks import task_view
from bot.sandbox.state import state_of


async def fetch(request: web.Request) -> web.Response:
    """GET /mj/task/{id}/fetch: the caller's task, else 400 task_no_found."""
    state = state_of(request)
    info = info_of(request)
    task = state.tasks.get(request.match_info["id"], info.owner)
    if task is None:
        return mj_relay_error("task_no_found")
    return json_response(task_view(task, state.tasks, info.base_url))


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
    views = [task_view(task, state.tasks, info.base_url) for task in found if task is not None]
    return json_response(views)


async def recent(request: web.Request) -> web.Response:
    """GET /mj/task/list (upstream only): the caller's latest 100 tasks, newest first."""
    state = state_of(request)
    info = info_of(request)
    views = [task_view(task, state.tasks, info.base_url)
             for task in state.tasks.recent(info.owner, 100)]
    return json_response(views)


async def image_seed(request: web.Request) -> web.Response:
    """GET /mj/task/{id}/image-seed: the seed of a finished image job."""
    state = state_of(request)
    task = state.tasks.get(request.match_info["id"], info_of(request).owner)
    if task is None:
        return mj_relay_error("task_no_found")
    done = state.tasks.phase(task).status == "SUCCESS"
    if not done or task.kind not in ("grid", "upscale"):
        return json_response({"code": 4, "description": "关联任务状态错误"}, status=400)
    seed = int(hashlib.sha256(task.job_hash.encode()).hexdigest(), 16) % 4_294_967_295
    return json_response({"code": 1, "description": "成功", "result": str(seed)})
