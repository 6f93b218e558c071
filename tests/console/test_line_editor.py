"""The console's line editor driven in-process (prompt_toolkit's pipe input), with the real core
and store and fake commands; and the pieces it is made of (the input guard, history, completion)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.plain_text import PlainTextOutput

from adapters.console import ConsoleAdapter
from adapters.console.completion import ConsoleCompleter
from adapters.console.inbound import typed_text
from adapters.console.terminal import history_path
from bot.dispatcher import Dispatcher
from tests.console.test_adapter import run_script

UP, CTRL_C, CTRL_D, ENTER = "\x1b[A", "\x03", "\x04", "\r"


async def type_into_console(bot: Dispatcher, keys: str, history_file: Path) -> str:
    """Run the console's line editor on `keys` (typed ahead); everything the terminal shows."""
    screen = io.StringIO()
    with (
        create_pipe_input() as keyboard,
        create_app_session(input=keyboard, output=PlainTextOutput(screen)),
    ):
        adapter = ConsoleAdapter(
            bot,
            stdin=io.StringIO(),
            stdout=io.StringIO(),
            output_dir=bot.services.settings.console_output_dir,
            user="tester",
            line_editor=True,
            history_file=history_file,
        )
        bot.services.channels[adapter.platform] = adapter
        keyboard.send_text(keys)
        async with asyncio.timeout(30):
            assert await adapter.run() == 0
    return screen.getvalue()


async def test_up_brings_back_the_last_line_and_the_history_outlives_the_session(
    bot: Dispatcher, tmp_path: Path
) -> None:
    history = tmp_path / "data" / "console_history"
    first = await type_into_console(bot, "/echo one" + ENTER + CTRL_D, history)
    assert first.count("echo /echo 'one'") == 1
    second = await type_into_console(bot, UP + ENTER + CTRL_D, history)
    assert second.count("echo /echo 'one'") == 1


async def test_ctrl_c_drops_the_line_and_the_next_one_is_read(
    bot: Dispatcher, tmp_path: Path
) -> None:
    keys = "/echo dropped" + CTRL_C + "/echo kept" + ENTER + CTRL_D
    screen = await type_into_console(bot, keys, tmp_path / "history")
    assert "echo /echo 'kept'" in screen
    assert "echo /echo 'dropped'" not in screen


async def test_a_pasted_line_of_escape_sequences_is_ignored(
    bot: Dispatcher, tmp_path: Path
) -> None:
    keys = "\x1b[200~\x1b[A\x1b[B\x1b[201~" + ENTER + "/echo next" + ENTER + CTRL_D
    screen = await type_into_console(bot, keys, tmp_path / "history")
    assert "Thinking" not in screen and "Echo:" not in screen  # no /ask went out
    assert "echo /echo 'next'" in screen


async def test_piped_lines_of_escape_sequences_only_are_skipped_and_the_rest_run(
    bot: Dispatcher,
) -> None:
    script = "\x1b[A\n\x1b[A\x1b[B\x1bOP\x07\n/echo hi\x1b[D\n/echo two\n"
    status, out = await run_script(bot, script)
    assert status == 0
    # Nothing went to /ask; an escape inside a real line is dropped from the text.
    assert out.splitlines() == ["echo /echo 'hi' {} []", "echo /echo 'two' {} []"]


async def test_an_ask_is_answered_by_escape_free_lines_only(bot: Dispatcher) -> None:
    status, out = await run_script(bot, "/remix\n1\n\x1b[A\n\x1b[B\n\n")
    assert status == 0
    # The escape lines did not answer (an answer would be the literal text); the empty one did.
    assert [line for line in out.splitlines() if line.startswith("remix answer=")] == [
        "remix answer='a cat'"
    ]


def test_only_what_was_typed_is_kept_of_a_line() -> None:
    assert typed_text("\x1b[A") is None
    assert typed_text("  \x1b[1;5C\x1b[D \x1b]0;title\x07") is None
    assert typed_text("\x9b31m\x00") is None
    assert typed_text("") == ""  # an empty line is still a line (it keeps an ask's default)
    assert typed_text("   ") == "   "
    assert typed_text("héllo\x1b[D 世界\t🎨") == "héllo 世界\t🎨"
    assert typed_text("^[[A") == "^[[A"  # the caret spelling is text someone typed


def test_the_history_lives_beside_the_sqlite_file_unless_a_file_is_set(tmp_path: Path) -> None:
    assert history_path("sqlite+aiosqlite:///./data/modelbridge.db") == Path("data/console_history")
    assert history_path(f"sqlite+aiosqlite:///{tmp_path}/db/bot.db") == (
        tmp_path / "db" / "console_history"
    )
    assert history_path("postgresql+asyncpg://u@localhost/bot") == Path("data/console_history")
    assert history_path("sqlite+aiosqlite://") == Path("data/console_history")
    set_here = tmp_path / "h"
    assert history_path("sqlite+aiosqlite:///x.db", str(set_here)) == set_here


def completions(completer: ConsoleCompleter, text: str) -> list[str]:
    found = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [text[: len(text) + c.start_position] + c.text for c in found]


async def test_command_names_and_at_paths_complete(
    bot: Dispatcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cat.png").write_bytes(b"x")
    (tmp_path / "my pics").mkdir()
    (tmp_path / "my pics" / "dog.png").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    completer = ConsoleCompleter(bot.commands("en"))
    assert completions(completer, "/ec") == ["/echo"]
    assert "/quit" in completions(completer, "/q")
    assert completions(completer, "/echo ") == []  # past the command name: nothing to offer
    assert completions(completer, "/echo a @ca") == ["/echo a @cat.png"]
    assert completions(completer, "/echo @my") == ['/echo @"my pics/']
    assert completions(completer, '/echo @"my pics/d') == ['/echo @"my pics/dog.png"']
    assert completions(completer, "me@ca") == []  # an e-mail-like word is not a path
