"""`modelbridge console` typed into on a pseudo-terminal, its screen read as a person sees it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.server import SandboxServer
from tests.console.terminal_session import (
    CTRL_C,
    CTRL_D,
    ENTER,
    PASTE_END,
    PASTE_START,
    UP,
    TerminalSession,
)
from tests.console.test_end_to_end import console_env


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[list[TerminalSession]]:
    """Sessions the test opens; each is closed (its process ended) whatever happens."""
    opened: list[TerminalSession] = []
    yield opened
    for session in opened:
        session.close()


def open_console(tmp_path: Path, sessions: list[TerminalSession], **env: str) -> TerminalSession:
    session = TerminalSession(tmp_path, {**console_env(tmp_path), "LOG_LEVEL": "ERROR", **env})
    sessions.append(session)
    session.wait_for_prompt()
    return session


def test_up_recalls_a_line_typed_in_an_earlier_run(
    tmp_path: Path, sessions: list[TerminalSession]
) -> None:
    first = open_console(tmp_path, sessions)
    first.type("/ask remember me" + ENTER)
    first.wait_for_text("Echo: remember me")
    first.wait_for_prompt()
    first.type(CTRL_D)
    assert first.wait_exit() == 0

    second = open_console(tmp_path, sessions)
    second.type(UP)
    second.wait_for_prompt("/ask remember me")
    second.type(ENTER)
    second.wait_for_text("Echo: remember me")
    # The history is kept in the data folder, beside the SQLite file.
    assert "+/ask remember me" in (tmp_path / "console_history").read_text()
    second.type(CTRL_D)
    assert second.wait_exit() == 0


def test_progress_arriving_while_typing_is_printed_above_and_leaves_the_typed_text_intact(
    tmp_path: Path, sessions: list[TerminalSession]
) -> None:
    # A slow sandbox: the job's progress keeps coming for a few seconds.
    console = open_console(tmp_path, sessions, SANDBOX_SPEED="5")
    console.type("/imagine a red fox" + ENTER)
    console.wait_for_text("% ")
    console.wait_for_prompt()
    console.type("hello wor")
    console.wait_for_prompt("hello wor")
    assert "[image]" not in console.text(), "the job ended before the typing: nothing was tested"

    console.wait_for_text("[image]")
    console.pump(0.5)
    lines = [line for line in console.lines() if line]
    # The grid, its buttons and every progress line went above; the typing stays at the bottom.
    assert lines[-1] == "> hello wor"
    assert console.cursor_line() == "> hello wor"
    assert sum("hello wor" in line for line in lines) == 1
    progress = [line for line in lines if "% " in line and "a red fox" in line]
    assert len(progress) >= 2 and all(line.startswith("[") for line in progress)

    console.type("ld" + ENTER)  # the line was kept whole: it is sent as typed
    console.wait_for_text("Echo: hello world")


def test_ctrl_c_drops_the_line_being_typed(tmp_path: Path, sessions: list[TerminalSession]) -> None:
    console = open_console(tmp_path, sessions)
    console.type("/ask never sent")
    console.wait_for_prompt("/ask never sent")
    console.type(CTRL_C)
    console.wait_for_prompt()
    console.type("/ask sent" + ENTER)
    console.wait_for_text("Echo: sent")
    console.type(CTRL_D)
    assert console.wait_exit() == 0
    assert "Echo: never sent" not in console.text()


def test_ctrl_d_waits_for_a_running_job_before_leaving(
    tmp_path: Path, sessions: list[TerminalSession]
) -> None:
    console = open_console(tmp_path, sessions, SANDBOX_SPEED="5")
    console.type("/imagine a cat" + ENTER)
    console.wait_for_text("% ")
    console.wait_for_prompt(settle=False)  # progress keeps coming: the job runs
    assert "[image]" not in console.text(), "the job ended before Ctrl-D: nothing was tested"
    waiting = "Waiting for 1 running job(s) to finish"
    console.press_until(CTRL_D, lambda s: waiting in s.text(), repr(waiting))
    assert console.wait_exit() == 0
    screen = console.text()
    assert waiting in screen
    assert screen.index("Waiting for 1 running job(s)") < screen.index("[image] ")
    images = list((tmp_path / "out").glob("*mj_*.png"))
    assert len(images) == 1


async def test_a_line_of_escape_sequences_only_sends_nothing_upstream(
    tmp_path: Path, sessions: list[TerminalSession], sandbox: SandboxServer
) -> None:
    env = {"UPSTREAM_BASE_URL": sandbox.url, "UPSTREAM_API_KEY": "sk-test-key-123"}

    def session() -> TerminalSession:
        console = open_console(tmp_path, sessions, **env)
        # A paste is taken as text, escapes and all (Up and F1 here), then Enter.
        console.type(PASTE_START + "\x1b[A\x1bOP" + PASTE_END)
        console.pump(0.3)
        console.type(ENTER)
        console.type("/ask after" + ENTER)
        console.wait_for_text("Echo: after")
        console.type(CTRL_D)
        assert console.wait_exit() == 0
        return console

    # The sandbox serves on this loop while the terminal is driven from a thread.
    console = await asyncio.to_thread(session)
    assert sandbox.hits["POST /v1/chat/completions"] == 1
    assert "Echo: after" in console.text()


def test_bytes_that_are_not_utf8_are_sent_as_replacement_characters(
    tmp_path: Path, sessions: list[TerminalSession]
) -> None:
    console = open_console(tmp_path, sessions)
    console.type(b"/ask caf\xe9 ok" + ENTER.encode())  # a latin-1 terminal's "café"
    console.wait_for_text("Echo: caf\ufffd ok")
    console.wait_for_prompt()
    console.type(UP)
    console.wait_for_prompt("/ask caf\ufffd ok")  # kept in the history as it was sent
    console.type("\x15" + CTRL_D)  # Ctrl-U clears the line, then Ctrl-D leaves
    assert console.wait_exit() == 0
