"""The console adapter driven through stdin, with the real core and store, and fake commands."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from bot.app import build_services, close_services
from bot.commands.registry import CommandSpec, CommandTable, Param
from bot.config import Settings
from bot.core import Bot, CommandContext, Services, UserError
from bot.i18n import Catalog
from bot.policy import Policy
from bot.replies import Button, Reply, Text, TextRequest, text_reply
from bot.sandbox.server import SandboxServer
from bot.upstream import UpstreamClient
from storage import open_store
from storage.base import ButtonAction
from tests.core.conftest import fast_settings


async def echo(ctx: CommandContext) -> None:
    request = ctx.request
    files = [f"{a.filename}:{a.mime}:{len(a.data)}" for a in request.attachments]
    await ctx.reply(
        text_reply(f"echo /{request.command} {request.text!r} {request.options} {files}")
    )


async def stream(ctx: CommandContext) -> None:
    ref = await ctx.reply(text_reply("Thinking…"))

    async def grow() -> None:
        for text in ("Echo: h", "Echo: hel", "Echo: hello"):
            await asyncio.sleep(0.01)
            await ctx.channel.edit(ref, text_reply(text))

    task = asyncio.create_task(grow())
    ctx.services.background.add(task)
    task.add_done_callback(ctx.services.background.discard)


async def grid(ctx: CommandContext) -> None:
    tokens = await ctx.services.store.issue_tokens(
        [
            ButtonAction(
                "pick", None, ctx.actor.user_id, ctx.actor.platform, f"U{i}", time.time() + 60
            )
            for i in (1, 2)
        ]
    )
    buttons = (tuple(Button(t, f"U{i}") for i, t in enumerate(tokens, 1)),)
    await ctx.reply(Reply((Text("grid done"),), buttons))


async def pick(ctx: CommandContext, action: ButtonAction) -> None:
    await ctx.reply(text_reply(f"picked {action.payload}"))


async def remix(ctx: CommandContext) -> None:
    answer = await ctx.channel.ask_text(
        ctx.chat, ctx.actor, TextRequest("Remix", "New prompt", default="a cat")
    )
    await ctx.reply(text_reply(f"remix answer={answer!r}"))


async def picky(ctx: CommandContext) -> None:
    raise UserError("input.empty_prompt", command="picky")


def table() -> CommandTable:
    commands = CommandTable()
    commands.add(
        CommandSpec(
            "echo",
            "echo",
            echo,
            params=(
                Param("text", "text", "t"),
                Param("size", "choice", "s", choices=("small", "large")),
                Param("image", "image", "i"),
            ),
        )
    )
    commands.add(CommandSpec("ask", "stream", stream))
    commands.add(CommandSpec("grid", "grid", grid))
    commands.add(CommandSpec("remix", "remix", remix))
    commands.add(CommandSpec("picky", "picky", picky))
    return commands


@pytest.fixture
async def services(tmp_path: Path, sandbox: SandboxServer) -> AsyncIterator[Services]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        console_output_dir=str(tmp_path / "out"),
    )
    store = await open_store(settings.database_url)
    client = UpstreamClient(sandbox.url, "sk-test-key-123")
    services = Services(
        settings=settings,
        client=client,
        store=store,
        catalog=Catalog(),
        policy=Policy(),
        commands=table(),
        buttons={"pick": pick},
    )
    try:
        yield services
    finally:
        await client.aclose()
        await store.close()


async def run_script(services: Services, script: str, **kwargs: object) -> tuple[int, str]:
    """Run the console on `script` as piped input; the exit status and everything printed."""
    out = io.StringIO()
    adapter = ConsoleAdapter(
        Bot(services),
        stdin=io.StringIO(script),
        stdout=out,
        user="tester",
        **kwargs,  # type: ignore[arg-type]
    )
    services.channels[adapter.platform] = adapter
    async with asyncio.timeout(30):
        status = await adapter.run()
    return status, out.getvalue()


async def test_lines_run_in_order_and_a_streamed_answer_finishes_before_the_next(
    services: Services, tmp_path: Path
) -> None:
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\ncat")
    script = f"hello there\n/echo size:LARGE a cat --ar 16:9 @{tmp_path / 'cat.png'}\n/nope\n"
    status, out = await run_script(services, script)
    assert status == 0
    assert out.splitlines() == [
        "Thinking…",
        "Echo: hello",
        "echo /echo 'a cat --ar 16:9' {'size': 'large'} ['cat.png:image/png:11']",
        "Unknown command /nope. Type /help to see what I can do.",
    ]


async def test_a_bad_line_is_explained_and_the_session_goes_on(services: Services) -> None:
    status, out = await run_script(
        services, "/echo @missing/cat.png\n/echo size:huge x\n/picky\n/echo still here\n"
    )
    assert status == 0
    lines = out.splitlines()
    assert "No such file: missing/cat.png" in lines[0]
    assert "'huge' is not one of small, large" in lines[1]
    assert lines[2] == "Please add a prompt after /picky."
    assert lines[3] == "echo /echo 'still here' {} []"


async def test_numbers_press_the_buttons_shown_under_earlier_messages(services: Services) -> None:
    status, out = await run_script(services, "/grid\n/grid\n2\n/press 3\n")
    assert status == 0
    assert "[1] U1  [2] U2" in out and "[3] U1  [4] U2" in out
    assert out.index("picked U2") < out.index("picked U1")


async def test_a_button_that_is_not_there_is_reported_at_once_when_nothing_runs(
    services: Services,
) -> None:
    status, out = await run_script(services, "7\n/echo next\n")
    assert status == 0
    assert out.splitlines() == ["There is no button [7].", "echo /echo 'next' {} []"]


async def test_pressing_a_button_of_a_job_still_running_waits_for_it(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, console_output_dir=str(tmp_path / "out"))
    services = await build_services(settings, upstream_url=sandbox.url, api_key="sk-test-key-123")
    try:
        assert services.tracker is not None
        await services.tracker.start()
        # `1` comes right after the submit, long before the grid and its U1 button exist.
        status, out = await run_script(services, "/imagine a cat\n1\n")
    finally:
        await close_services(services)
    assert status == 0
    assert "There is no button" not in out
    images = re.findall(r"^\[image\] (\S+)", out, re.MULTILINE)
    assert len(images) == 2, out  # the grid, then the upscale U1 asked for
    assert "[1] U1" in out


async def test_the_line_after_an_ask_answers_it(services: Services) -> None:
    script = "/remix\n\n/remix\na dog --ar 2:3\n/remix\n/cancel\n/remix\n"
    status, out = await run_script(services, script)
    assert status == 0
    answers = [line for line in out.splitlines() if line.startswith("remix answer=")]
    # Empty line: the default; text: itself; /cancel: None; end of input: None.
    assert answers == [
        "remix answer='a cat'",
        "remix answer='a dog --ar 2:3'",
        "remix answer=None",
        "remix answer=None",
    ]
    assert out.count("? Remix — New prompt") == 4


async def test_quit_ends_the_session_and_ignores_the_rest(services: Services) -> None:
    status, out = await run_script(services, "/echo one\n/quit\n/echo two\n")
    assert status == 0
    assert "'one'" in out and "'two'" not in out


class _ClosedPipe(io.StringIO):
    """An output whose reader went away (`modelbridge console < script | head -1`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


async def test_the_session_ends_quietly_when_nobody_reads_the_output(services: Services) -> None:
    adapter = ConsoleAdapter(
        Bot(services), stdin=io.StringIO("/echo one\n/echo two\n"), stdout=_ClosedPipe(), user="t"
    )
    services.channels[adapter.platform] = adapter
    async with asyncio.timeout(30):
        assert await adapter.run() == 0
    assert adapter.renderer.closed
