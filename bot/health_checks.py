"""What `/healthz` asks: one named check per part of the bot (store, upstream, each adapter)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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
