"""`modelbridge check`: the settings, the gateway's key and what it offers, the default model,
the database and each configured platform token, one line per check, starting nothing.

Exit status 0 when every check passes, 1 when one fails, 2 for settings that cannot be used
(one line per wrong setting, as at start-up). Secrets never reach the output: every line is
masked with the configured ones before it is printed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import settings_or_exit, upstream_endpoint
from bot.config import Settings
from bot.logging_setup import mask_secrets, setup_logging
from bot.offers import model_problems
from bot.upstream import (
    AuthenticationError,
    Capabilities,
    ConnectionFailed,
    UpstreamClient,
    UpstreamError,
    UpstreamTimeout,
)
from bot.upstream.retry import RetryPolicy

PLATFORM_TIMEOUT_S = 10.0
# A check answers in seconds: one quick retry at most, not the bot's patient backoff.
CHECK_RETRY = RetryPolicy(attempts=2, base_delay=0.2, max_delay=1.0)


@dataclass
class Report:
    """Prints one line per check (✓ / ✗) or note (·), with every secret masked."""

    secrets: list[str] = field(default_factory=list)
    write: Callable[[str], None] = print
    failed: int = 0

    def ok(self, line: str) -> None:
        self.write(self._masked(f"✓ {line}"))

    def fail(self, line: str) -> None:
        self.failed += 1
        self.write(self._masked(f"✗ {line}"))

    def note(self, line: str) -> None:
        self.write(self._masked(f"· {line}"))

    def _masked(self, line: str) -> str:
        for secret in self.secrets:
            if secret:
                line = line.replace(secret, "***")
        return mask_secrets(line)


def _secrets(settings: Settings) -> list[str]:
    configured = (
        settings.upstream_api_key, settings.telegram_bot_token, settings.discord_bot_token
    )
    found = [s.get_secret_value() for s in configured if isinstance(s, SecretStr)]
    try:
        password = make_url(settings.database_url).password
    except ArgumentError:
        password = None
    return found + ([str(password)] if password else [])


def _shown_url(url: str) -> str:
    """A URL without any user:password part."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "(unparsable URL)"
    return str(parsed.copy_with(username=None, password=None))


async def check_upstream(settings: Settings, report: Report) -> None:
    """The key against /v1/models, what the gateway offers, and the configured models."""
    if not settings.upstream_base_url:
        report.note(
            "UPSTREAM_BASE_URL is not set: `modelbridge run` would use the offline sandbox "
            "(synthetic answers); checked against it"
        )
    async with upstream_endpoint(settings) as (url, key), UpstreamClient(
        url,
        key,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=min(settings.upstream_read_timeout, 30.0),
        retry=CHECK_RETRY,
    ) as client:
        shown = _shown_url(url) if settings.upstream_base_url else "the sandbox"
        try:
            models = await client.list_models()
        except AuthenticationError as exc:
            unset = " (UPSTREAM_API_KEY is not set)" if not key else ""
            said = exc.gateway_message or exc
            report.fail(f"upstream key: refused by {shown}{unset}: {said}")
            return
        except (ConnectionFailed, UpstreamTimeout) as exc:
            report.fail(f"upstream: cannot reach {shown} ({type(exc).__name__}: {exc})")
            return
        except UpstreamError as exc:
            report.fail(f"upstream: {shown} /v1/models failed: {type(exc).__name__}: {exc}")
            return
        report.ok(f"upstream key: accepted by {shown} ({len(models)} models listed)")
        caps = await client.capabilities.refresh()
    _capabilities(caps, report)
    _models(settings, caps, report)


def _capabilities(caps: Capabilities, report: Report) -> None:
    for line in caps.summary():
        report.note(f"gateway offers {line}" if not line.startswith("problem") else line)


def _models(settings: Settings, caps: Capabilities, report: Report) -> None:
    problems = model_problems(settings, caps)
    for problem in problems:
        report.fail(problem)
    if not any(p.startswith("DEFAULT_MODEL") for p in problems):
        report.ok(f"DEFAULT_MODEL {settings.default_model}: listed by the gateway")


def _nearest_directory(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path("/")


async def check_database(settings: Settings, report: Report) -> None:
    """DATABASE_URL opens (read only: no lock taken, no migration run, nothing written)."""
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        report.fail("DATABASE_URL: not a database URL (e.g. sqlite+aiosqlite:///./data/bot.db)")
        return
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not await asyncio.to_thread(path.exists):
            folder = await asyncio.to_thread(_nearest_directory, path)
            writable = await asyncio.to_thread(os.access, folder, os.W_OK)
            if folder.is_dir() and writable:
                report.ok(f"database {shown}: not there yet; the first start creates it")
            else:
                report.fail(f"database {shown}: cannot be created ({folder} is not writable)")
            return
    try:
        engine = create_async_engine(url)
    except ImportError as exc:
        report.fail(f"database {shown}: its driver is not installed ({exc.name or exc})")
        return
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        report.fail(f"database {shown}: cannot be opened: {reason}")
        return
    finally:
        await engine.dispose()
    report.ok(f"database {shown}: opens")


async def check_telegram(settings: Settings, report: Report) -> None:
    """The Telegram token against getMe (TELEGRAM_API_BASE_URL)."""
    token = settings.telegram_bot_token
    if token is None:
        report.note("Telegram: TELEGRAM_BOT_TOKEN is not set (not used)")
        return
    base = settings.telegram_api_base_url.rstrip("/")
    url = f"{base}/bot{token.get_secret_value()}/getMe"
    body = await _get_json("Telegram", base, url, {}, report)
    if body is None:
        return
    status, answer = body
    result = answer.get("result")
    if status == 200 and isinstance(result, dict) and answer.get("ok"):
        report.ok(f"Telegram token: accepted (@{result.get('username', '?')})")
        return
    said = answer.get("description")
    report.fail(f"Telegram token: refused by {_shown_url(base)} (HTTP {status}: {said or '?'})")


async def check_discord(settings: Settings, report: Report) -> None:
    """The Discord token against GET /users/@me (DISCORD_API_BASE_URL)."""
    token = settings.discord_bot_token
    if token is None:
        report.note("Discord: DISCORD_BOT_TOKEN is not set (not used)")
        return
    base = settings.discord_api_base_url.rstrip("/")
    headers = {"Authorization": f"Bot {token.get_secret_value()}"}
    body = await _get_json("Discord", base, f"{base}/users/@me", headers, report)
    if body is None:
        return
    status, answer = body
    if status == 200 and answer.get("id"):
        report.ok(f"Discord token: accepted ({answer.get('username', '?')}, id {answer['id']})")
        return
    said = answer.get("message")
    report.fail(f"Discord token: refused by {_shown_url(base)} (HTTP {status}: {said or '?'})")


async def _get_json(
    platform: str, base: str, url: str, headers: dict[str, str], report: Report
) -> tuple[int, dict[str, object]] | None:
    """(status, JSON object) of one GET; None (with the failure reported) when there is none."""
    try:
        async with httpx.AsyncClient(timeout=PLATFORM_TIMEOUT_S, trust_env=False) as http:
            response = await http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        # The exception's text may hold the URL, token included: only its kind is shown.
        report.fail(f"{platform}: cannot reach {_shown_url(base)} ({type(exc).__name__})")
        return None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        report.fail(
            f"{platform}: {_shown_url(base)} answered HTTP {response.status_code} without a JSON "
            "object"
        )
        return None
    return response.status_code, answer


async def run_checks(settings: Settings, report: Report) -> None:
    """Every check, in the order an operator fixes things; one failing oddly fails alone."""
    report.ok("settings: valid")
    checks = (
        ("upstream", check_upstream),
        ("database", check_database),
        ("Telegram", check_telegram),
        ("Discord", check_discord),
    )
    for name, check in checks:
        try:
            await check(settings, report)
        except Exception as exc:
            report.fail(f"{name}: the check itself failed: {type(exc).__name__}: {exc}")


def run_check() -> int:
    """`modelbridge check`: 0 when every check passes, 1 otherwise, 2 for unusable settings."""
    settings = settings_or_exit()
    setup_logging("ERROR", settings.log_format)  # the report is the output, not the logs
    report = Report(secrets=_secrets(settings), write=lambda line: print(line, flush=True))
    try:
        asyncio.run(run_checks(settings, report))
    except KeyboardInterrupt:
        return 130
    if report.failed:
        print(f"{report.failed} check(s) failed", file=sys.stderr)
        return 1
    return 0
