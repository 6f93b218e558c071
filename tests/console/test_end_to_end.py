"""`modelbridge console` as a user runs it: a script piped in, the offline sandbox upstream."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image as PILImage

from bot.app import SANDBOX_NOTICE
from bot.i18n import en

REPO = Path(__file__).resolve().parents[2]
# Bounds the whole session, so a hang fails the test instead of stalling the suite.
SESSION_BOUND_S = 120


def console_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user with no gateway configured: the console uses the sandbox."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper()
        not in {"UPSTREAM_BASE_URL", "UPSTREAM_API_KEY", "DISCORD_BOT_TOKEN", "TELEGRAM_BOT_TOKEN"}
    }
    env.update(
        PYTHONPATH=str(REPO),
        PYTHONIOENCODING="utf-8",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        SANDBOX_SPEED="200",
        CONSOLE_OUTPUT_DIR=str(tmp_path / "out"),
        MJ_POLL_MIN_INTERVAL_S="0.05",
        MJ_POLL_MAX_INTERVAL_S="0.2",
    )
    return env


def run_console(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "console"],
        input=script,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=console_env(tmp_path),
        timeout=SESSION_BOUND_S,
        check=False,
    )


def paths_after(label: str, text: str) -> list[Path]:
    return [Path(p) for p in re.findall(rf"^{re.escape(label)} (\S+)", text, re.MULTILINE)]


def test_a_piped_session_chats_draws_upscales_speaks_and_transcribes(tmp_path: Path) -> None:
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.linspace(0, 1, 48000, dtype=np.float32))
    soundfile.write(tmp_path / "hello.ogg", tone, 48000, format="OGG", subtype="OPUS")
    script = "\n".join(
        [
            "/help",
            "/ask hello",
            "/imagine a cat",
            "1",
            "/speak hi",
            "/describe",
            "/describe @missing.png",
            "/transcribe @hello.ogg",
            # The script ends right after this submit: the console must still wait for the grid.
            "/imagine a dog",
            "",
        ]
    )
    result = run_console(tmp_path, script)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]

    assert out.startswith(f"* {SANDBOX_NOTICE}\n")
    assert en.MESSAGES["help.intro"] in out and "/imagine" in out
    assert "Echo: hello" in out
    assert en.MESSAGES["mj.describe_needs_image"] in out
    assert "No such file: missing.png" in out
    assert "1-second ogg recording" in out

    # The cat's grid, the upscale that pressing [1] (U1) asked for, and the dog's grid.
    assert "[1] U1  [2] U2  [3] U3  [4] U4  [5] 🔄" in out
    images = paths_after("[image]", out)
    assert len(images) == 3, out
    assert all(p.parent == tmp_path / "out" for p in images)
    pictures = [PILImage.open(io.BytesIO(p.read_bytes())) for p in images]
    assert len({p.tobytes() for p in pictures}) == 3
    assert re.search(r"a dog\n\[image\] ", out), out

    (speech,) = paths_after("[audio]", out)
    samples, rate = soundfile.read(speech)
    assert speech.suffix == ".ogg" and rate > 0 and len(samples) > 0
