"""What the models "say": the echo rule, image markdown for drawing models, length limits."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox.context import RequestInfo, info_of
from bot.sandbox.files import FILES_PATH
from bot.sandbox.images import Picture, grid_png, grid_size, single_png
from bot.sandbox.mj_buttons import grid_buttons
from bot.sandbox.state import SandboxState, state_of
from bot.sandbox.text import (
    count_tokens,
    echo_line,
    last_user_turn,
    prompt_tokens,
    truncate_tokens,
    with_filler,
)

_DRAW_WORDS = re.compile(r"\b(draw|paint|picture|image|illustrat\w*|sketch)\b|画", re.I)


@dataclass(slots=True)
class Answer:
    """What the model "says" and how the turn ended."""

    text: str
    finish_reason: str
    prompt_tokens: int

    @property
    def usage(self) -> dict[str, int]:
        """OpenAI usage object."""
        completion = count_tokens(self.text)
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion}


def _picture_url(state: SandboxState, info: RequestInfo, prompt: str, grid: bool,
                 job_hash: str = "") -> str:
    picture = Picture(prompt, uuid.uuid4().hex, job_hash)
    size = grid_size((1, 1))
    if grid:
        name = state.files.put_lazy(lambda: grid_png(picture, size), "image/png", ".png")
    else:
        name = state.files.put_lazy(lambda: single_png(picture, size, "SD", 1), "image/png", ".png")
    return f"{info.base_url}{FILES_PATH}/{name}"


def _mj_chat_markdown(state: SandboxState, info: RequestInfo, prompt: str) -> str:
    """The mj-chat reply: progress links, the image, a download link, message_id, a button table."""
    job_hash = str(uuid.uuid4())
    url = _picture_url(state, info, prompt, grid=True, job_hash=job_hash)
    progress = ".".join(f"[{p}]({url})" for p in ("0%", "31%", "46%", "100%"))
    rows = [
        f"| {b['label'] or b['emoji']} | {b['label']} | {b['type']} | {b['customId']} |"
        for b in grid_buttons(job_hash)
    ]
    return "\n".join([
        progress, "", f"![{prompt}]({url})", f"[⏬下载]({url})", "",
        f"message_id: {int(time.time() * 1000)}{uuid.uuid4().int % 1000:03d}", "",
        "| name | label | type | custom_id |", "| --- | --- | --- | --- |", *rows,
    ])


def chat_answer(request: web.Request, body: dict[str, Any], messages: list[Any]) -> Answer:
    """The deterministic reply: echo, image markdown for drawing models, filler, max_tokens."""
    info = info_of(request)
    state = state_of(request)
    model = str(body["model"])
    turn = last_user_turn(messages)
    text = echo_line(turn, len(messages))
    if model == "stable-diffusion" or (model == "gpt-4-all" and _DRAW_WORDS.search(turn.text)):
        text += f"\n\n![{turn.text}]({_picture_url(state, info, turn.text, grid=False)})"
    elif model == "mj-chat":
        text += "\n\n" + _mj_chat_markdown(state, info, turn.text)
    text = with_filler(text, info.tokens)
    text, cut = truncate_tokens(text, body.get("max_tokens"))
    return Answer(text, "length" if cut else "stop", prompt_tokens(messages))
