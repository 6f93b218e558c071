"""The operator's /healthz and /metrics, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.health import HealthServer
from bot.health_checks import HealthChecks
from bot.metrics import Metrics


@pytest.fixture
async def served() -> AsyncIterator[tuple[HealthChecks, Metrics, str]]:
    checks, metrics = HealthChecks(), Metrics()
    server = HealthServer(checks, metrics, host="127.0.0.1", port=0)
    await server.start()
    try:
        yield checks, metrics, f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def _fine() -> None:
    return None


async def _store_down() -> None:
    raise ConnectionError("database is locked")


async def _hangs() -> None:
    await asyncio.sleep(60)


async def test_healthz_is_200_when_every_part_answers(
    served: tuple[HealthChecks, Metrics, str],
) -> None:
    checks, _metrics, base = served
    checks.add("store", _fine)
    checks.add("upstream", _fine)
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{base}/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "parts": {"store": "ok", "upstream": "ok"}}


async def test_healthz_is_503_naming_the_part_that_fails(
    served: tuple[HealthChecks, Metrics, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    checks, _metrics, base = served
    monkeypatch.setattr("bot.health_checks.CHECK_TIMEOUT_S", 0.2)
    checks.add("store", _store_down)
    checks.add("upstream", _fine)
    checks.add("telegram", _hangs)
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{base}/healthz")
    assert answer.status_code == 503
    parts = answer.json()["parts"]
    assert parts["store"] == "database is locked"
    assert parts["upstream"] == "ok"
    assert "no answer" in parts["telegram"]


async def test_metrics_are_served_in_prometheus_text_format(
    served: tuple[HealthChecks, Metrics, str],
) -> None:
    _checks, metrics, base = served
    metrics.commands.labels("imagine", "ok").inc()
    metrics.commands.labels("imagine", "ok").inc()
    metrics.upstream_errors.labels("rate_limited").inc()
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{base}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert 'modelbridge_commands_total{command="imagine",outcome="ok"} 2.0' in answer.text
    assert 'modelbridge_upstream_errors_total{kind="rate_limited"} 1.0' in answer.text
