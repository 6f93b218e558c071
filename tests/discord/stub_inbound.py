"""A stand-in for the core behind `Inbound`, for adapter tests that need no upstream.

It behaves like the core does towards a channel: /ask streams, /imagine shows progress and then
a grid with buttons, presses check the owner, Vary (Region) asks for text.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.channel import Channel, MessageRef
from bot.inbound import (
    Accepted,
    AskText,
    CommandInfo,
    CommandRequest,
    Notice,
    ParamInfo,
    Press,
    PressAnswer,
    TextSubmit,
)
from bot.replies import Audio, Button, Image, Progress, Reply, TextRequest, text_reply

COMMANDS = [
    CommandInfo("ask", "Ask the model", (ParamInfo("text", "text", "Your question", True),
                                         ParamInfo("image", "image", "A picture"))),
    CommandInfo("imagine", "Draw", (ParamInfo("prompt", "text", "What to draw", True),
                                    ParamInfo("niji", "flag", "Anime model"),
                                    ParamInfo("engine", "choice", "Engine",
                                              choices=("midjourney", "dalle")))),
    CommandInfo("blend", "Blend images", (ParamInfo("images", "image", "Images", True,
                                                    count=5),)),
    CommandInfo("model", "Pick a model", (ParamInfo("model", "text", "Name", suggests=True),)),
    CommandInfo("speak", "Say it", (ParamInfo("text", "text", "What to say", True),)),
    CommandInfo("transcribe", "Transcribe", (ParamInfo("audio", "audio", "Recording", True),)),
    CommandInfo("echo", "Echo", (ParamInfo("text", "text", "Text", True),)),
]
ZH = {"ask": "向模型提问", "imagine": "画图", "blend": "混合图片", "model": "选择模型",
      "speak": "朗读", "transcribe": "转写", "echo": "回声"}


@dataclass
class StubInbound:
    """Records what it was given; `answer_chunks` is what /ask streams."""

    answer_chunks: list[str] = field(default_factory=lambda: ["Hello", " world"])
    chunk_delay: float = 0.0
    requests: list[CommandRequest] = field(default_factory=list)
    presses: list[Press] = field(default_factory=list)
    submits: list[TextSubmit] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)  # button token -> owner user id
    grid_ref: MessageRef | None = None
    press_delay: float = 0.0
    command_delay: float = 0.0
    voice: bytes = b""
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_command(self, request: CommandRequest, channel: Channel) -> None:
        self.requests.append(request)
        if self.command_delay:
            await asyncio.sleep(self.command_delay)
        if request.command == "ask":
            stream = channel.open_stream(request.chat, reply_to=request.message)
            text = ""
            for chunk in self.answer_chunks:
                text += chunk
                stream.update(text)
                if self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
            await stream.finish(text_reply(text))
        elif request.command == "imagine":
            ref = await channel.progress(None, request.chat, Progress("Waiting to start"))
            for pct in (10, 40, 70):
                ref = await channel.progress(ref, request.chat, Progress("Drawing", pct))
            await self.release.wait()
            token_u1, token_vr = f"u1{len(self.owners)}", f"vr{len(self.owners)}"
            self.owners[token_u1] = self.owners[token_vr] = request.actor.user_id
            buttons = ((Button(token_u1, "U1"), Button(token_vr, "Vary (Region)", "🖌️")),)
            self.grid_ref = await channel.edit(ref, Reply((Image(b"\x89PNG grid", "image/png",
                                                                 "grid.png"),), buttons))
        elif request.command == "speak":
            await channel.send(request.chat, Reply((Audio(self.voice, duration_s=None),)),
                               reply_to=request.message)
        else:
            await channel.send(request.chat, text_reply(request.text or request.command),
                               reply_to=request.message)

    async def handle_message(self, request: CommandRequest, channel: Channel) -> None:
        await self.handle_command(CommandRequest(
            request.actor, request.chat, "echo", request.text, request.attachments,
            message=request.message), channel)

    async def handle_press(self, press: Press, channel: Channel) -> PressAnswer:
        self.presses.append(press)
        if self.press_delay:
            await asyncio.sleep(self.press_delay)
        owner = self.owners.get(press.token)
        if owner is None:
            return Notice("This button has expired.")
        if owner != press.actor.user_id:
            return Notice("This is not your task.")
        if press.token.startswith("vr"):
            return AskText("m" + press.token, TextRequest("Vary (Region)", "New prompt",
                                                          default="a cat"))
        asyncio.get_running_loop().create_task(
            channel.send(press.chat, text_reply("Upscaled!"), reply_to=press.message))
        return Accepted()

    async def handle_text_submit(self, submit: TextSubmit, channel: Channel) -> None:
        self.submits.append(submit)
        await channel.send(submit.chat, text_reply(f"Varying with: {submit.text}"))

    async def bind_text_request(self, token: str, asked: MessageRef) -> None:
        return None

    def commands(self, language: str) -> list[CommandInfo]:
        if language == "zh":
            return [CommandInfo(c.name, ZH[c.name], c.params) for c in COMMANDS]
        return list(COMMANDS)

    async def suggest(self, command: str, param: str, typed: str, actor: object) -> list[str]:
        return [m for m in ("gpt-4o", "gpt-4o-mini", "o3") if m.startswith(typed)]

    async def drain(self) -> None:
        return None
