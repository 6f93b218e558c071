"""GET /mj/image/{id}: the gateway's image proxy, serving previews and results from memory.

A real gateway hands finished images out of a CDN, so fetching one costs no drawing. Here each
task's pictures (the final image and the blurred preview) are drawn once, in the drawing worker
(`bot.sandbox.drawing`), when the task starts running (`prerender`), and served from then on; a
request that comes first waits for that one drawing instead of starting another.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.sandbox.drawing import draw
from bot.sandbox.errors import json_response
from bot.sandbox.images import Picture, grid_and_preview_png, grid_size, preview_png, single_png
from bot.sandbox.mj_tasks import T_PROGRESS, Task, phase_of
from bot.sandbox.state import SandboxState, state_of

DRAWN_KINDS = frozenset({"grid", "upscale", "swap"})


@dataclass(frozen=True, slots=True)
class Drawn:
    """A task's final image and its progress preview, both PNG bytes."""

    key: tuple[str, tuple[int, int]]  # what they were drawn from: picture text and aspect
    final: bytes
    preview: bytes


def _picturetext(task: Task) -> str:
    if task.kind in ("grid", "upscale") and task.final_prompt:
        return task.final_prompt
    return task.prompt or task.action.lower()


def _draw_key(task: Task) -> tuple[str, tuple[int, int]]:
    return _picturetext(task), task.aspect


def render_pngs(kind: str, picture: Picture, aspect: tuple[int, int], tile: int
                ) -> tuple[bytes, bytes]:
    """The finished image and the preview of a task of `kind` (runs in the drawing worker)."""
    size = grid_size(aspect)
    if kind == "grid":
        return grid_and_preview_png(picture, size)
    preview = preview_png(Picture(picture.prompt, picture.seed), size)
    if kind == "upscale":
        return single_png(picture, size, f"U{tile}", tile), preview
    return single_png(picture, size, "swapped", 2), preview


async def render_all(task: Task, key: tuple[str, tuple[int, int]]) -> Drawn:
    """The finished image and the preview of a task, drawn from `key` (text and aspect)."""
    text, aspect = key
    picture = Picture(text, task.seed, task.job_hash, task.id)
    final, preview = await draw(render_pngs, task.kind, picture, aspect, task.tile)
    return Drawn(key, final, preview)


def drawn(task: Task) -> asyncio.Future[Drawn]:
    """The task's pictures, drawn once per prompt (a remix prompt draws them anew)."""
    key = _draw_key(task)
    if task.drawing is None or task.drawing_key != key:
        task.drawing_key = key
        task.drawing = asyncio.ensure_future(render_all(task, key))
    return task.drawing


def prerender(task: Task, state: SandboxState) -> None:
    """Draw a task's pictures in the background once it runs, ready before anyone asks."""
    if task.kind not in DRAWN_KINDS or task.waiting_modal or task.fault is not None:
        return

    def start() -> None:
        state.pending.discard(timer)
        if not task.waiting_modal and phase_of(task, state.clock.now()).status == "IN_PROGRESS":
            drawing = drawn(task)
            state.pending.add(drawing)
            drawing.add_done_callback(_settled(state))

    timer = asyncio.get_running_loop().call_later(state.clock.real(T_PROGRESS), start)
    state.pending.add(timer)


def _settled(state: SandboxState) -> Callable[[asyncio.Future[Drawn]], None]:
    def done(future: asyncio.Future[Drawn]) -> None:
        state.pending.discard(future)
        # Retrieved so it is not logged: the request that needs a failed drawing redraws it.
        if not future.cancelled():
            future.exception()

    return done


async def _pictures(task: Task) -> Drawn:
    drawing = drawn(task)
    try:
        return await asyncio.shield(drawing)
    except Exception:
        if task.drawing is drawing:
            task.drawing = None
        raise


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
        final = (await _pictures(task)).final
        disposition = f'inline; filename="sandbox_{safe}_{task.job_hash}.png"'
        return web.Response(body=final, content_type="image/png",
                            headers={"Content-Disposition": disposition})
    if status == "IN_PROGRESS" and task.kind in DRAWN_KINDS:
        preview = (await _pictures(task)).preview
        disposition = f'inline; filename="{safe}_grid_0.png"'
        return web.Response(body=preview, content_type="image/png",
                            headers={"Content-Disposition": disposition})
    return missing
