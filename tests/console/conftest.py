"""The console tests' core: the dispatcher on the sandbox, with the test commands and buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_core, close_core
from bot.dispatcher import Dispatcher
from bot.sandbox.server import SandboxServer
from tests.console.test_adapter import BUTTONS, table
from tests.core.conftest import fast_settings


@pytest.fixture
async def bot(tmp_path: Path, sandbox: SandboxServer) -> AsyncIterator[Dispatcher]:
    settings = fast_settings(tmp_path, console_output_dir=str(tmp_path / "out"))
    core = await build_core(
        settings, upstream_url=sandbox.url, api_key="sk-test-key-123",
        commands=table(), buttons=BUTTONS,
    )  # fmt: skip
    try:
        yield core.dispatcher
    finally:
        await close_core(core)
