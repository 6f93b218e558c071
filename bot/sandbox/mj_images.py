"""GET /mj/image/{id}: the gateway's image proxy, drawing previews and results on demand."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from bot.sandbox.errors import json_response
from bot.sandbox.images import Picture, grid_png, grid_size, preview_png, single_png
from bot.sandbox.mj_tasks import Task, phase_of
from bot.sandbox.state import state_of


def _picturetext(task: Task) -> str:
    if task.kind in ("grid", "upscale") and task.final_prompt:
        return task.final_prompt
    return task.prompt or task.action.lower()


def render_final(task: Task) -> bytes:
    """The finished image of a task (runs in a worker thread)."""
    picture = Picture(_picturetext(task), task.seed, task.job_hash, task.id)
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
    words = "_".join(_picturetext(task).split()[:4]) or task.action.lower()
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
        picture = Picture(_picturetext(task), task.seed)
        data = await asyncio.to_thread(preview_png, picture, grid_size(task.aspect))
        preview = f'inline; filename="{safe}_grid_0.png"'
        return web.Response(body=data, content_type="image/png",
                            headers={"Content-Disposition": preview})
    return missing
