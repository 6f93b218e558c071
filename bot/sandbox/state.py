"""The sandbox's shared state, reachable from every handler through the application."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.clock import SimClock
from bot.sandbox.families import ALL_FAMILIES, Absent
from bot.sandbox.faults import Fault
from bot.sandbox.files import FileStore
from bot.sandbox.mj_tasks import TaskStore


@dataclass(slots=True)
class SandboxState:
    """Clock, stores, request counters and the fault applied to every request."""

    clock: SimClock
    tasks: TaskStore
    files: FileStore = field(default_factory=FileStore)
    hits: Counter[str] = field(default_factory=Counter)
    global_faults: list[Fault] = field(default_factory=list)
    # The route families served (bot.sandbox.families) and how the others answer.
    families: frozenset[str] = ALL_FAMILIES
    absent: Absent = "json"
    # Also serve the upstream-only GET /mj/task/list (a Midjourney-proxy reached directly);
    # new-api does not route it.
    upstream_list: bool = False
    # Background drawings scheduled or running (bot.sandbox.mj_images.prerender), cancelled
    # when the server stops.
    pending: set[asyncio.TimerHandle | asyncio.Future[Any]] = field(default_factory=set)


STATE = web.AppKey("sandbox_state", SandboxState)


def state_of(request: web.Request) -> SandboxState:
    """The state of the application serving `request`."""
    return request.app[STATE]
