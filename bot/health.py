"""The operator's HTTP listener: `/healthz` (is every part working?) and `/metrics`.

Off unless `HEALTH_PORT` is set. Each part of the bot registers a check; `/healthz` answers 200
when all pass and 503 naming the parts that fail, which is what a container HEALTHCHECK or a
load balancer wants.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.metrics import Metrics

log = logging.getLogger(__name__)

# A check that hangs counts as failed: /healthz itself must answer within a probe's timeout.
CHECK_TIMEOUT_S = 3.0

Check = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PartHealth:
    """One part's state: `detail` says what is wrong when `ok` is False."""

    name: str
    ok: bool
    detail: str = ""


class HealthChecks:
    """Named checks; a check passes by returning and fails by raising (its message is shown)."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        """Register (or replace) the check for one part: "store", "upstream", "telegram"..."""
        self._checks[name] = check

    async def run(self) -> list[PartHealth]:
        """Run every check at once, each bounded by CHECK_TIMEOUT_S."""
        names = list(self._checks)
        results = await asyncio.gather(
            *(self._one(name, self._checks[name]) for name in names)
        )
        return list(results)

    @staticmethod
    async def _one(name: str, check: Check) -> PartHealth:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except TimeoutError:
            return PartHealth(name, False, f"no answer within {CHECK_TIMEOUT_S:g} s")
        except Exception as exc:
            return PartHealth(name, False, str(exc) or type(exc).__name__)
        return PartHealth(name, True)


class HealthServer:
    """Serves `/healthz` and `/metrics` on a port of its own."""

    def __init__(self, checks: HealthChecks, metrics: Metrics, *, host: str, port: int) -> None:
        self.checks = checks
        self.metrics = metrics
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Start listening; `port` 0 picks a free one (read it back from `self.port`)."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        for address in self._runner.addresses:
            self.port = int(address[1])
            break
        log.info("health and metrics on http://%s:%d/healthz", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        parts = await self.checks.run()
        failing = [part for part in parts if not part.ok]
        body = {
            "status": "ok" if not failing else "failing",
            "parts": {part.name: part.detail or "ok" for part in parts},
        }
        if failing:
            log.warning(
                "health check failing: %s", "; ".join(f"{p.name}: {p.detail}" for p in failing)
            )
        return web.json_response(body, status=503 if failing else 200)

    async def _metrics(self, _request: web.Request) -> web.Response:
        payload, content_type = self.metrics.exposition()
        # aiohttp wants the charset apart from the media type.
        media_type, _, params = content_type.partition(";")
        charset = params.split("charset=")[-1].strip() if "charset=" in params else None
        return web.Response(body=payload, content_type=media_type.strip(), charset=charset)
