"""`modelbridge check`: one line per check, exit 0 when all pass and 1 when one fails, never a
secret printed; run as an operator runs it (a child process) against servers on loopback."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.sandbox.server import SandboxServer
from tests.ops.test_startup_errors import REPO, _clean_env
from tests.upstream.foreign import ForeignGateway

KEY = "sk-check-key-0123456789abcdef"
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
DISCORD_TOKEN = "MTA4NjQ0Mjc5NzE3NzI0MjYyNA.GhQx1a.x8yZkQn0v4mW3pL9sT2uV7rE5cB1dF6gH0jK"
SECRETS = (KEY, TELEGRAM_TOKEN, DISCORD_TOKEN, "check-key-0123456789abcdef")


class FakePlatforms:
    """Telegram's getMe and Discord's GET /users/@me, accepting only the tokens given; the
    failing upstream's /v1/models too (a key it refuses, echoed in its error as some do)."""

    def __init__(self, telegram: str, discord: str) -> None:
        self.telegram = telegram
        self.discord = discord
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _get_me(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.telegram:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        return web.json_response(
            {"ok": True, "result": {"id": 1, "is_bot": True, "username": "bridge_bot"}}
        )

    async def _users_me(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {self.discord}":
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return web.json_response({"id": "1086442797177242624", "username": "Bridge"})

    async def _models(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        message = f"Incorrect API key provided: {given}. You can find your key in the dashboard."
        return web.json_response(
            {"error": {"message": message, "type": "invalid_request_error",
                       "code": "invalid_api_key"}},
            status=401,
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/tg/bot{token}/getMe", self._get_me)
        app.router.add_get("/discord/api/v10/users/@me", self._users_me)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def platforms() -> AsyncIterator[FakePlatforms]:
    fake = FakePlatforms(TELEGRAM_TOKEN, DISCORD_TOKEN)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def platform_env(fake: FakePlatforms) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_API_BASE_URL": f"{fake.url}/tg",
        "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
        "DISCORD_API_BASE_URL": f"{fake.url}/discord/api/v10",
    }


def own_env() -> dict[str, str]:
    # The developer's own gateway, database and platform settings must not leak into the child.
    platform = ("TELEGRAM_", "DISCORD_", "DEFAULT_MODEL", "ALLOWED_MODELS")
    return {k: v for k, v in _clean_env().items() if not k.upper().startswith(platform)}


async def run_check(env: dict[str, str], cwd: Path) -> tuple[int, list[str], str]:
    """`modelbridge check` in a child process: its status, stdout lines and stderr."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", "check",
        cwd=cwd,
        env={**own_env(), "PYTHONPATH": str(REPO), **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode is not None
    text = out.decode() + err.decode()
    for secret in SECRETS:
        assert secret not in text, f"a secret was printed:\n{text}"
    return child.returncode, out.decode().splitlines(), err.decode()


def line(lines: list[str], start: str) -> str:
    found = [text for text in lines if text.startswith(start)]
    assert len(found) == 1, f"one line starting {start!r} expected in:\n" + "\n".join(lines)
    return found[0]


async def test_everything_in_order_passes_with_one_line_per_check(
    sandbox: SandboxServer, platforms: FakePlatforms, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    env = {"UPSTREAM_BASE_URL": sandbox.url, "UPSTREAM_API_KEY": KEY,
           "DATABASE_URL": f"sqlite+aiosqlite:///{db}", **platform_env(platforms)}
    status, lines, err = await run_check(env, tmp_path)
    assert status == 0, "\n".join(lines) + err
    assert line(lines, "✓ upstream key:").endswith("models listed)")
    assert line(lines, "· gateway offers Midjourney:") == "· gateway offers Midjourney: yes"
    assert "dall-e-3" in line(lines, "· gateway offers image models:")
    assert line(lines, "✓ DEFAULT_MODEL") == "✓ DEFAULT_MODEL gpt-4o-mini: listed by the gateway"
    assert "the first start creates it" in line(lines, "✓ database")
    assert not db.exists(), "check creates nothing"
    assert line(lines, "✓ Telegram token") == "✓ Telegram token: accepted (@bridge_bot)"
    assert line(lines, "✓ Discord token").startswith("✓ Discord token: accepted (Bridge, id ")
    assert not [text for text in lines if text.startswith("✗")]
    assert sandbox.hits["POST /mj/submit/imagine"] == 0


async def test_a_refused_key_and_refused_tokens_fail_each_on_its_line(
    platforms: FakePlatforms, tmp_path: Path
) -> None:
    failing = FakePlatforms("987654321:AAnotTheTokenWeSentAtAllxxxxxxxxxxxx", "someone-else")
    await failing.start()
    try:
        env = {"UPSTREAM_BASE_URL": failing.url, "UPSTREAM_API_KEY": KEY,
               "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'bot.db'}",
               **platform_env(failing)}
        status, lines, err = await run_check(env, tmp_path)
    finally:
        await failing.stop()
    assert status == 1
    refused = line(lines, "✗ upstream key:")
    assert refused.startswith(f"✗ upstream key: refused by {failing.url}: Incorrect API key")
    assert "***" in refused
    assert line(lines, "✗ Telegram token") == (
        f"✗ Telegram token: refused by {failing.url}/tg (HTTP 401: Unauthorized)"
    )
    assert line(lines, "✗ Discord token") == (
        f"✗ Discord token: refused by {failing.url}/discord/api/v10 (HTTP 401: 401: Unauthorized)"
    )
    assert line(lines, "✓ database")  # its folder is made at the first start
    assert "3 check(s) failed" in err
    assert "Traceback" not in err


async def test_an_unreachable_upstream_and_database_are_named(tmp_path: Path) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {"UPSTREAM_BASE_URL": f"http://127.0.0.1:{port}", "UPSTREAM_API_KEY": KEY,
           "DATABASE_URL": f"sqlite+aiosqlite:///{blocker / 'bot.db'}"}
    status, lines, _ = await run_check(env, tmp_path)
    assert status == 1
    assert "ConnectionFailed" in line(lines, "✗ upstream:")
    assert "cannot be created" in line(lines, "✗ database")
    assert line(lines, "· Telegram:") == "· Telegram: TELEGRAM_BOT_TOKEN is not set (not used)"


async def test_a_default_model_the_gateway_does_not_list_is_one_clear_line(
    tmp_path: Path,
) -> None:
    foreign = ForeignGateway()
    await foreign.start()
    try:
        env = {"UPSTREAM_BASE_URL": foreign.url, "UPSTREAM_API_KEY": KEY,
               "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}
        status, lines, _ = await run_check(env, tmp_path)
    finally:
        await foreign.stop()
    assert status == 1
    assert line(lines, "✗ DEFAULT_MODEL") == (
        "✗ DEFAULT_MODEL gpt-4o-mini is not listed by the gateway; users who never chose a "
        "model get llama-3.1-8b"
    )
    assert line(lines, "· gateway offers Midjourney:") == "· gateway offers Midjourney: no"
    assert line(lines, "· gateway offers chat models:") == (
        "· gateway offers chat models: llama-3.1-8b, qwen2.5-7b-instruct"
    )
    assert [text for text in lines if text.startswith("✗")] == [line(lines, "✗ DEFAULT_MODEL")]
    assert not foreign.hits["POST /v1/chat/completions"], "check sends no paid call"


async def test_a_wrong_setting_exits_2_with_one_line_per_setting(tmp_path: Path) -> None:
    status, lines, err = await run_check(
        {"UPSTREAM_BASE_URL": "gateway.example", "HEALTH_PORT": "99999"}, tmp_path
    )
    assert status == 2
    assert lines == []
    problems = err.strip().splitlines()
    assert len(problems) == 2 and all(p.startswith("modelbridge: configuration:") for p in problems)


async def test_with_no_upstream_it_says_the_sandbox_would_be_used(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", "SANDBOX_SPEED": "50"}
    status, lines, err = await run_check(env, tmp_path)
    assert status == 0, "\n".join(lines) + err
    assert "would use the offline sandbox" in line(lines, "· UPSTREAM_BASE_URL is not set")
    assert line(lines, "✓ upstream key:").startswith("✓ upstream key: accepted by the sandbox (")
