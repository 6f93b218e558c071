"""The console adapter driven through stdin, with the real core and store, and fake commands."""

from __future__ import annotations

import asyncio
import io
import re
import time
from pathlib import Path

from adapters.console import ConsoleAdapter
from bot.app import build_core, close_core
from bot.commands.registry import (
    ButtonKind,
    CommandSpec,
    CommandTable,
    Param,
    Prompt,
    button_table,
    command_table,
)
from bot.dispatcher import Dispatcher
from bot.replies import Button, Reply, Text, TextRequest, text_reply
from bot.sandbox.server import SandboxServer
from bot.services import CommandContext, UserError
from bot.tasks.tracker import TaskTracker
from storage.base import ButtonAction, PendingText
from tests.core.conftest import fast_settings


async def echo(ctx: CommandContext) -> None:
    request = ctx.request
    files = [f"{a.filename}:{a.mime}:{len(a.data)}" for a in request.attachments]
    await ctx.reply(
        text_reply(f"echo /{request.command} {request.text!r} {request.options} {files}")
    )


async def stream(ctx: CommandContext) -> None:
    answer = ctx.channel.open_stream(ctx.chat)
    answer.update("Thinking…")
    for text in ("Echo: h", "Echo: hel", "Echo: hello"):
        await asyncio.sleep(0.01)
        answer.update(text)
    await answer.finish(text_reply("Echo: hello"))


async def _buttons(ctx: CommandContext, kind: str, owner: str, labels: list[str]) -> None:
    tokens = await ctx.services.store.issue_tokens(
        [
            ButtonAction(kind, None, owner, ctx.actor.platform, label, time.time() + 60)
            for label in labels
        ]
    )
    buttons = (tuple(Button(t, label) for label, t in zip(labels, tokens, strict=True)),)
    await ctx.reply(Reply((Text(f"{kind} buttons"),), buttons))


async def grid(ctx: CommandContext) -> None:
    await _buttons(ctx, "pick", ctx.actor.user_id, ["U1", "U2"])


async def theirs(ctx: CommandContext) -> None:
    await _buttons(ctx, "pick", "someone-else", ["U1"])


async def pick(ctx: CommandContext, action: ButtonAction) -> None:
    await ctx.reply(text_reply(f"picked {action.payload}"))


async def remix(ctx: CommandContext) -> None:
    await _buttons(ctx, "prompt", ctx.actor.user_id, ["✏️"])


async def remix_prompt(ctx: CommandContext, action: ButtonAction) -> Prompt:
    return Prompt("remix", TextRequest("Remix", "New prompt", default="a cat"))


async def remix_submit(ctx: CommandContext, pending: PendingText, text: str) -> None:
    await ctx.reply(text_reply(f"remix answer={text!r}"))


async def picky(ctx: CommandContext) -> None:
    raise UserError("input.empty_prompt", command="picky")


def table() -> CommandTable:
    return command_table(
        CommandSpec(
            "echo",
            "echo",
            echo,
            params=(
                Param("text", "text", "t"),
                Param("size", "choice", "s", choices=("small", "large")),
                Param("image", "image", "i"),
            ),
        ),
        CommandSpec("ask", "stream", stream),
        CommandSpec("grid", "grid", grid),
        CommandSpec("theirs", "theirs", theirs),
        CommandSpec("remix", "remix", remix),
        CommandSpec("picky", "picky", picky),
    )


BUTTONS = button_table(
    ButtonKind("pick", press=pick),
    ButtonKind("prompt", prompt=remix_prompt, submit=remix_submit),
)


async def run_script(
    bot: Dispatcher, script: str, jobs: TaskTracker | None = None, **kwargs: object
) -> tuple[int, str]:
    """Run the console on `script` as piped input; the exit status and everything printed."""
    out = io.StringIO()
    adapter = ConsoleAdapter(
        bot,
        stdin=io.StringIO(script),
        stdout=out,
        output_dir=bot.services.settings.console_output_dir,
        jobs=jobs,
        user="tester",
        **kwargs,  # type: ignore[arg-type]
    )
    bot.services.channels[adapter.platform] = adapter
    async with asyncio.timeout(30):
        status = await adapter.run()
    return status, out.getvalue()


async def test_lines_run_in_order_and_a_streamed_answer_finishes_before_the_next(
    bot: Dispatcher, tmp_path: Path
) -> None:
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\ncat")
    script = f"hello there\n/echo size:LARGE a cat --ar 16:9 @{tmp_path / 'cat.png'}\n/nope\n"
    status, out = await run_script(bot, script)
    assert status == 0
    assert out.splitlines() == [
        "Thinking…",
        "Echo: hello",
        "echo /echo 'a cat --ar 16:9' {'size': 'large'} ['cat.png:image/png:11']",
        "Unknown command /nope. Type /help to see what I can do.",
    ]


async def test_a_bad_line_is_explained_and_the_session_goes_on(bot: Dispatcher) -> None:
    status, out = await run_script(
        bot, "/echo @missing/cat.png\n/echo size:huge x\n/picky\n/echo still here\n"
    )
    assert status == 0
    lines = out.splitlines()
    assert "No such file: missing/cat.png" in lines[0]
    assert "'huge' is not one of small, large" in lines[1]
    assert lines[2] == "Please add a prompt after /picky."
    assert lines[3] == "echo /echo 'still here' {} []"


async def test_numbers_press_the_buttons_shown_under_earlier_messages(bot: Dispatcher) -> None:
    status, out = await run_script(bot, "/grid\n/grid\n2\n/press 3\n")
    assert status == 0
    assert "[1] U1  [2] U2" in out and "[3] U1  [4] U2" in out
    assert out.index("picked U2") < out.index("picked U1")


async def test_a_button_that_is_not_there_is_reported_at_once_when_nothing_runs(
    bot: Dispatcher,
) -> None:
    status, out = await run_script(bot, "7\n/echo next\n")
    assert status == 0
    assert out.splitlines() == ["There is no button [7].", "echo /echo 'next' {} []"]


async def test_pressing_someone_elses_button_prints_a_notice(bot: Dispatcher) -> None:
    status, out = await run_script(bot, "/theirs\n1\n/echo next\n")
    assert status == 0
    assert out.splitlines()[-2:] == [
        "* Only the person who started this job can use its buttons.",
        "echo /echo 'next' {} []",
    ]
    assert "picked" not in out


async def test_pressing_a_button_of_a_job_still_running_waits_for_it(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, console_output_dir=str(tmp_path / "out"))
    core = await build_core(settings, upstream_url=sandbox.url, api_key="sk-test-key-123")
    try:
        await core.tracker.start()
        # `1` comes right after the submit, long before the grid and its U1 button exist.
        status, out = await run_script(core.dispatcher, "/imagine a cat\n1\n", core.tracker)
    finally:
        await close_core(core)
    assert status == 0
    assert "There is no button" not in out
    images = re.findall(r"^\[image\] (\S+)", out, re.MULTILINE)
    assert len(images) == 2, out  # the grid, then the upscale U1 asked for
    assert "[1] U1" in out


async def test_the_line_after_an_ask_answers_it(bot: Dispatcher) -> None:
    script = "/remix\n1\n\n/remix\n2\na dog --ar 2:3\n/remix\n3\n/cancel\n/remix\n4\n"
    status, out = await run_script(bot, script)
    assert status == 0
    answers = [line for line in out.splitlines() if line.startswith("remix answer=")]
    # Empty line: the default; text: itself; /cancel and end of input: nothing is sent.
    assert answers == ["remix answer='a cat'", "remix answer='a dog --ar 2:3'"]
    assert "Cancelled." in out
    assert out.count("? Remix — New prompt") == 4


async def test_quit_ends_the_session_and_ignores_the_rest(bot: Dispatcher) -> None:
    status, out = await run_script(bot, "/echo one\n/quit\n/echo two\n")
    assert status == 0
    assert "'one'" in out and "'two'" not in out


class _ClosedPipe(io.StringIO):
    """An output whose reader went away (`modelbridge console < script | head -1`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


async def test_the_session_ends_quietly_when_nobody_reads_the_output(bot: Dispatcher) -> None:
    adapter = ConsoleAdapter(
        bot,
        stdin=io.StringIO("/echo one\n/echo two\n"),
        stdout=_ClosedPipe(),
        output_dir=bot.services.settings.console_output_dir,
        user="t",
    )
    bot.services.channels[adapter.platform] = adapter
    async with asyncio.timeout(30):
        assert await adapter.run() == 0
    assert adapter.renderer.closed


async def test_a_bad_byte_in_piped_input_is_replaced_and_the_rest_still_runs(
    bot: Dispatcher,
) -> None:
    raw = io.BytesIO(b"/echo caf\xc3\xa9 \xff\xfe bad\x01 bytes\n/echo still here\n")
    out = io.StringIO()
    adapter = ConsoleAdapter(
        bot,
        stdin=io.TextIOWrapper(raw, encoding="utf-8"),
        stdout=out,
        output_dir=bot.services.settings.console_output_dir,
        user="tester",
    )
    bot.services.channels[adapter.platform] = adapter
    async with asyncio.timeout(30):
        status = await adapter.run()
    assert status == 0
    lines = out.getvalue().splitlines()
    assert "echo /echo 'café \ufffd\ufffd bad bytes' {} []" in lines
    assert "echo /echo 'still here' {} []" in lines
