"""GET /mj/image/{id}: the gateway's image proxy, serving previews and results from memory.

A real gateway hands finished images out of a CDN, so fetching one costs no drawing. Here each
task's final image is drawn once, in the drawing worker (`bot.sandbox.drawing`), when the task
starts running (`prerender`), its blurred preview when first asked for, and both are served from
then on; a request that comes first waits for that one drawing instead of starting another.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Literal

from aiohttp import web

from bot.sandbox.drawing import draw
from bot.sandbox.errors import json_response
from bot.sandbox.images import Picture, grid_png, grid_size, preview_png, single_png
from bot.sandbox.mj_tasks import T_PROGRESS, Task, phase_of
from bot.sandbox.state import SandboxState, state_of

DRAWN_KINDS = frozenset({"grid", "upscale", "swap"})


Which = Literal["final", "preview"]


def _picturetext(task: Task) -> str:
    if task.kind in ("grid", "upscale") and task.final_prompt:
        return task.final_prompt
    return task.prompt or task.action.lower()


def _draw_key(task: Task) -> tuple[str, tuple[int, int]]:
    return _picturetext(task), task.aspect


def render_final(kind: str, picture: Picture, aspect: tuple[int, int], tile: int) -> bytes:
    """The finished image of a task of `kind` (runs in the drawing worker)."""
    size = grid_size(aspect)
    if kind == "grid":
        return grid_png(picture, size)
    if kind == "upscale":
        return single_png(picture, size, f"U{tile}", tile)
    return single_png(picture, size, "swapped", 2)


async def _render(task: Task, which: Which, key: tuple[str, tuple[int, int]]) -> bytes:
    text, aspect = key
    if which == "preview":
        return await draw(preview_png, Picture(text, task.seed), grid_size(aspect))
    picture = Picture(text, task.seed, task.job_hash, task.id)
    return await draw(render_final, task.kind, picture, aspect, task.tile)


def drawn(task: Task, which: Which) -> asyncio.Future[bytes]:
    """The task's final image or preview (PNG), drawn once per prompt (a remix prompt draws
    them anew)."""
    key = _draw_key(task)
    if task.drawing_key != key:
        task.drawing_key, task.drawings = key, {}
    if which not in task.drawings:
        task.drawings[which] = asyncio.ensure_future(_render(task, which, key))
    return task.drawings[which]


def prerender(task: Task, state: SandboxState) -> None:
    """Draw a task's final image in the background once it runs, ready before anyone asks.

    Previews are drawn when first asked for: a bot under load skips them, and then they would
    only take drawing time from the results.
    """
    if task.kind not in DRAWN_KINDS or task.waiting_modal or task.fault is not None:
        return

    def start() -> None:
        state.pending.discard(timer)
        if not task.waiting_modal and phase_of(task, state.clock.now()).status == "IN_PROGRESS":
            drawing = drawn(task, "final")
            state.pending.add(drawing)
            drawing.add_done_callback(_settled(state))

    timer = asyncio.get_running_loop().call_later(state.clock.real(T_PROGRESS), start)
    state.pending.add(timer)


def _settled(state: SandboxState) -> Callable[[asyncio.Future[bytes]], None]:
    def done(future: asyncio.Future[bytes]) -> None:
        state.pending.discard(future)
        # Retrieved so it is not logged: the request that needs a failed drawing redraws it.
        if not future.cancelled():
            future.exception()

    return done


async def _picture(task: Task, which: Which) -> bytes:
    drawing = drawn(task, which)
    try:
        return await asyncio.shield(drawing)
    except Exception:
        if task.drawings.get(which) is drawing:
            del task.drawings[which]
        raise


async def mj_image(request: web.Request) -> web.Response:
    """GET /mj/image/{id}: no auth; the preview while running, the result once SUCCESS."""
    state = state_of(request)
    task = state.tasks.get_any(request.match_info["id"])
    missing = json_response({"error": "midjourney_task_not_found"}, status=400)
    if task is None:
        return missing
    status = state.tasks.phase(task).status
    words = "_".join(_picturetext(task).split()[:4]) or task.action.lower()
    safe = re.sub(r"[^A-Za-z0-9_]", "", words)[:60] or "image"
    if status == "SUCCESS" and task.kind == "describe" and task.uploads:
        upload = task.uploads[0]
        return web.Response(body=upload.data, content_type=upload.mime)
    if status == "SUCCESS" and task.kind != "shorten":
        final = await _picture(task, "final")
        disposition = f'inline; filename="sandbox_{safe}_{task.job_hash}.png"'
        return web.Response(body=final, content_type="image/png",
                            headers={"Content-Disposition": disposition})
    if status == "IN_PROGRESS" and task.kind in DRAWN_KINDS:
        preview = await _picture(task, "preview")
        disposition = f'inline; filename="{safe}_grid_0.png"'
        return web.Response(body=preview, content_type="image/png",
                            headers={"Content-Disposition": disposition})
    return missing
