"""Start-up mistakes end in one clear line and a non-zero status, never a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from storage import open_store

REPO = Path(__file__).resolve().parents[2]


async def run_bot(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`modelbridge ARGS` in a child process with empty stdin; its exit status and stderr."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from bot.cli import main; sys.exit(main())",
        *args,
        cwd=cwd,
        env={**_clean_env(), "PYTHONPATH": str(REPO), **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode is not None
    return child.returncode, err.decode()


def _clean_env() -> dict[str, str]:
    # The developer's own settings must not leak into what the child reads.
    return {k: v for k, v in os.environ.items() if not k.startswith(("UPSTREAM_", "DATABASE_"))}


async def test_a_wrong_setting_is_named_with_what_is_expected_and_exits_2(tmp_path: Path) -> None:
    status, err = await run_bot(
        "console",
        env={"MJ_POLL_MIN_INTERVAL_S": "soon", "UPSTREAM_BASE_URL": "gateway.example"},
        cwd=tmp_path,
    )
    assert status == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    named = "modelbridge: configuration: MJ_POLL_MIN_INTERVAL_S:"
    assert any(line.startswith(named) for line in lines)
    assert "'soon'" in err
    assert any("UPSTREAM_BASE_URL" in line and "http://" in line for line in lines)


async def test_a_wrong_secret_setting_is_named_without_echoing_its_value(tmp_path: Path) -> None:
    status, err = await run_bot(
        "console", env={"HEALTH_PORT": "99999", "LOG_LEVEL": "chatty"}, cwd=tmp_path
    )
    assert status == 2
    assert "HEALTH_PORT" in err and "LOG_LEVEL" in err
    assert "Traceback" not in err


async def test_a_second_bot_on_the_same_database_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    store = await open_store(url)
    try:
        status, err = await run_bot("console", env={"DATABASE_URL": url}, cwd=tmp_path)
    finally:
        await store.close()
    assert status == 1
    assert "Traceback" not in err
    problem = [line for line in err.splitlines() if "cannot start" in line]
    assert len(problem) == 1, err
    assert "in use by another modelbridge process" in problem[0]


async def test_a_database_that_cannot_be_reached_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database's folder should be")
    url = f"sqlite+aiosqlite:///{blocker / 'bot.db'}"
    status, err = await run_bot("console", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert status == 1
    assert "Traceback" not in err
    assert "cannot start" in err
