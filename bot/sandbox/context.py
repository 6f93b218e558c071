"""Per-request facts the middleware works out once: request id, caller, fault and pacing knobs."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.sandbox.faults import Fault


@dataclass(slots=True)
class RequestInfo:
    """What handlers need to know about the request besides its body."""

    request_id: str
    base_url: str
    owner: str = ""
    fault: Fault | None = None
    tokens: int | None = None
    tps: float | None = None

    @property
    def fault_name(self) -> str | None:
        """The injected fault's name, if any."""
        return self.fault.name if self.fault else None


_KEY = web.RequestKey("sandbox_request", RequestInfo)


def attach(request: web.Request, info: RequestInfo) -> None:
    """Remember `info` on the request for the handlers."""
    request[_KEY] = info


def info_of(request: web.Request) -> RequestInfo:
    """The RequestInfo the middleware attached."""
    return request[_KEY]
