"""A scripted stand-in for the core, for adapter tests that need no upstream (the core's
end-to-end behaviour is tested against the sandbox in test_end_to_end.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.channel import Actor, Channel, MessageRef
from bot.inbound import (
    Accepted,
    AskText,
    CommandInfo,
    CommandRequest,
    Notice,
    Press,
    PressAnswer,
    TextSubmit,
)
from bot.replies import Button, Image, Reply, Text, TextRequest, text_reply


@dataclass
class StubInbound:
    """Records every call; /ask streams `answer` word by word; buttons are owned by "owner"."""

    answer: str = "Hello **there**, this is a streamed answer."
    word_delay: float = 0.0
    owner: str = ""
    commands_seen: list[CommandRequest] = field(default_factory=list)
    messages_seen: list[CommandRequest] = field(default_factory=list)
    presses: list[Press] = field(default_factory=list)
    submits: list[TextSubmit] = field(default_factory=list)
    bound: dict[str, MessageRef] = field(default_factory=dict)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    hold: asyncio.Event | None = None

    async def handle_command(self, request: CommandRequest, channel: Channel) -> None:
        self.commands_seen.append(request)
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        if request.command == "ask":
            await self._stream(request, channel)
        elif request.command == "grid":
            buttons = (
                (Button("tok-U1", "U1"), Button("tok-V1", "V1")),
                (Button("tok-vary", "Vary (Region)", "🖌"),),
            )
            image = Image(b"\x89PNG fake grid", filename="grid.png")
            await channel.send(
                request.chat, Reply(parts=(Text("done"), image), buttons=buttons),
                reply_to=request.message,
            )
        elif request.command == "huge":
            huge = Image(b"\x89PNG" + bytes(11 * 1024 * 1024), filename="huge.png")
            await channel.send(
                request.chat, Reply(parts=(Text("big one"), huge), buttons=((Button("tok-h"),),))
            )
        elif request.command == "album":
            images = tuple(Image(f"img{i}".encode(), filename=f"{i}.png") for i in range(3))
            await channel.send(
                request.chat,
                Reply(parts=(Text("three **pictures**"), *images),
                      buttons=((Button("tok-a", "Again"),),)),
                reply_to=request.message,
            )
        else:
            await channel.send(
                request.chat, text_reply(f"ran /{request.command} {request.text}".strip()),
                reply_to=request.message,
            )

    async def _stream(self, request: CommandRequest, channel: Channel) -> None:
        await channel.typing(request.chat)
        stream = channel.open_stream(request.chat, reply_to=request.message)
        words = self.answer.split(" ")
        for i in range(1, len(words) + 1):
            stream.update(" ".join(words[:i]))
            await asyncio.sleep(self.word_delay)
        await stream.finish(text_reply(self.answer))

    async def handle_message(self, request: CommandRequest, channel: Channel) -> None:
        self.messages_seen.append(request)
        await channel.send(request.chat, text_reply(f"heard: {request.text}"))

    async def handle_press(self, press: Press, channel: Channel) -> PressAnswer:
        self.presses.append(press)
        if self.owner and press.actor.user_id != self.owner:
            return Notice("This button belongs to someone else's image.")
        if press.token == "tok-vary":
            return AskText("req-1", TextRequest("Vary (Region)", "Describe the change"))
        return Accepted()

    async def handle_text_submit(self, submit: TextSubmit, channel: Channel) -> None:
        self.submits.append(submit)
        await channel.send(submit.chat, text_reply(f"varying: {submit.text}"))

    async def bind_text_request(self, token: str, asked: MessageRef) -> None:
        self.bound[token] = asked

    async def awaits_text(self, message: MessageRef) -> bool:
        return message in self.bound.values()

    def commands(self, language: str) -> list[CommandInfo]:
        if language == "zh":
            return [CommandInfo("ask", "向模型提问"), CommandInfo("imagine", "生成图片")]
        return [CommandInfo("ask", "Ask the model"), CommandInfo("imagine", "Draw a picture")]

    async def suggest(self, command: str, param: str, typed: str, actor: Actor) -> list[str]:
        return []

    async def drain(self) -> None:
        return None
