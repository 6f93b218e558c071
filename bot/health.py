"""The operator's HTTP listener: `/healthz` (is every part working?) and `/metrics`.

Off unless `HEALTH_PORT` is set (only then is this module, and aiohttp's server, imported).
`/healthz` runs the checks of `bot.health_checks`: 200 when all pass and 503 naming the parts
that fail, which is what a container HEALTHCHECK or a load balancer wants.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.health_checks import HealthChecks
from bot.metrics import Metrics

log = logging.getLogger(__name__)

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
