"""One process per SQLite file, and no committed turn lost to a kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.base import ConversationKey, StoreLocked
from storage.sql_store import SqlStore

# One process per file and kill -9 are SQLite matters (PostgreSQL is a server of its own).
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

REPO = Path(__file__).resolve().parents[2]
KEY = ConversationKey("console", "chat", "", "me")

OPEN_ONCE = """
import asyncio, sys
from storage import open_store

async def main():
    store = await open_store(sys.argv[1])
    await store.close()
    print("opened")

asyncio.run(main())
"""

APPEND_FOREVER = """
import asyncio, sys
from storage import open_store
from storage.base import ConversationKey, StoredMessage

async def main():
    store = await open_store(sys.argv[1])
    key = ConversationKey("console", "chat", "", "me")
    i = 0
    while True:
        await store.append_messages(key, [
            StoredMessage("user", f"q{i}", tokens=i),
            StoredMessage("assistant", f"a{i} " + "lorem ipsum " * 40, tokens=i),
        ])
        print(i, flush=True)  # only after the commit returned
        i += 1

asyncio.run(main())
"""


async def run_python(code: str, *args: str, cwd: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_a_second_process_is_refused_while_the_first_holds_the_file(
    store: SqlStore, db_url: str, db_path: Path, tmp_path: Path
) -> None:
    child = await run_python(OPEN_ONCE, db_url, cwd=tmp_path)
    out, err = await child.communicate()
    assert child.returncode != 0
    message = err.decode()
    assert "StoreLocked" in message
    assert f"the database {db_path} is in use by another modelbridge process" in message
    assert b"opened" not in out

    await store.close()
    child = await run_python(OPEN_ONCE, db_url, cwd=tmp_path)
    out, err = await child.communicate()
    assert child.returncode == 0, err.decode()
    assert out.strip() == b"opened"


async def test_a_second_store_in_the_same_process_is_refused(
    store: SqlStore, db_url: str, db_path: Path
) -> None:
    other = SqlStore(db_url)
    try:
        await other.open()
    except StoreLocked as exc:
        assert exc.path == str(db_path)
    else:
        raise AssertionError("a second store opened the same file")
    finally:
        await other.close()
    # The refused store did not disturb the first.
    await store.append_messages(KEY, [])
    assert await store.load_context(KEY) == []


async def test_kill_9_loses_no_committed_turn(db_url: str, tmp_path: Path) -> None:
    child = await run_python(APPEND_FOREVER, db_url, cwd=tmp_path)
    assert child.stdout is not None
    reported: list[int] = []
    while len(reported) < 150:
        line = await child.stdout.readline()
        assert line, (await child.stderr.read()).decode() if child.stderr else "child died"
        reported.append(int(line))
    child.send_signal(signal.SIGKILL)
    # Lines already in the pipe were printed after their commit, so they count too.
    rest = await child.stdout.read()
    reported += [int(n) for n in rest.split()]
    assert await child.wait() == -signal.SIGKILL

    async with SqlStore(db_url) as store:
        context = await store.load_context(KEY, max_messages=1_000_000)
        async with store.engine.connect() as conn:
            check = (await conn.execute(sa.text("PRAGMA integrity_check"))).scalars().all()
            fk = (await conn.execute(sa.text("PRAGMA foreign_key_check"))).all()
    assert check == ["ok"]
    assert fk == []
    assert reported == list(range(len(reported)))
    # Every reported turn is there, whole; at most one more committed before its print.
    turns = len(context) // 2
    assert len(context) % 2 == 0
    assert turns in (len(reported), len(reported) + 1)
    for i in range(turns):
        question, answer = context[2 * i], context[2 * i + 1]
        assert (question.role, question.content) == ("user", f"q{i}")
        assert (answer.role, answer.tokens) == ("assistant", i)
        assert answer.content.startswith(f"a{i} ")
