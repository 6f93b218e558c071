"""Daily limits per user and per chat, exact under concurrency: reserve at the check, settle to
what the call really used, release what a failed call did not cost.

Today's use of a subject (a user, a chat) is read from the store once per day and then kept in
memory, with the reservations of commands still running on top. A check and its reservation
happen without an `await` in between, so 50 simultaneous commands against a limit of 10 start
exactly 10. One process owns the counts: with several processes on one PostgreSQL database each
counts its own reservations (the stored use is shared).

A command's reservations live in a context variable the dispatcher opens per command
(`reservation_scope`): `record_usage` settles the oldest open one, and what is left when the
command ends is released, or kept as spent when the error said the gateway may have charged.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from bot.prices import PriceTable
from storage.base import UsageEvent
from storage.usage_reports import UsageReports, UsageTotal

log = logging.getLogger(__name__)

DAY_S = 86_400
# Cost kinds (bot.policy.Cost.kind) -> the daily-limit kind they count against.
LIMIT_OF_COST = {
    "chat": "chat_tokens",
    "mj": "mj_jobs",
    "mj_action": "mj_actions",
    "image": "images",
    "audio": "transcribe_seconds",
    "speech": "speech_chars",
}
# Billing pseudo-models of presses on a job's buttons (and the modal step some of them need).
MJ_ACTION_MODELS = frozenset(
    {
        "mj_upscale", "mj_variation", "mj_reroll", "mj_zoom", "mj_custom_zoom", "mj_pan",
        "mj_high_variation", "mj_low_variation", "mj_inpaint", "mj_modal",
    }
)  # fmt: skip


def usage_amounts(
    prices: PriceTable, command: str, model: str, prompt: int, completion: int, units: float,
    calls: int = 1,
) -> dict[str, float]:  # fmt: skip
    """What a usage record counts against each limit kind, its cost included."""
    amounts: dict[str, float] = {
        "cost": prices.price(model).cost(
            prompt_tokens=prompt, completion_tokens=completion, units=units, calls=calls
        )
    }
    if prompt or completion or command == "ask":
        amounts["chat_tokens"] = float(prompt + completion)
    elif command == "transcribe":
        amounts["transcribe_seconds"] = units
    elif command == "speak":
        amounts["speech_chars"] = units
    elif model in MJ_ACTION_MODELS:
        amounts["mj_actions"] = float(calls)
    elif model.startswith("mj_") or model in ("swap_face", "midjourney"):
        amounts["mj_jobs"] = float(calls)
    else:
        amounts["images"] = units or float(calls)
    return amounts


def event_amounts(prices: PriceTable, event: UsageEvent) -> dict[str, float]:
    """`usage_amounts` of one recorded event."""
    return usage_amounts(
        prices, event.command, event.model, event.prompt_tokens, event.completion_tokens,
        event.units,
    )  # fmt: skip


def total_amounts(prices: PriceTable, totals: list[UsageTotal]) -> dict[str, float]:
    """The sum of `usage_amounts` over grouped usage rows."""
    summed: dict[str, float] = {}
    for t in totals:
        amounts = usage_amounts(
            prices, t.command, t.model, t.prompt_tokens, t.completion_tokens, t.units, t.calls
        )
        for kind, amount in amounts.items():
            summed[kind] = summed.get(kind, 0.0) + amount
    return summed


@dataclass(slots=True)
class Tally:
    """One subject's day: what the store says it used, and what running commands reserved."""

    used: dict[str, float] = field(default_factory=dict)
    reserved: dict[str, float] = field(default_factory=dict)

    def add(self, book: dict[str, float], amounts: Mapping[str, float], sign: float = 1) -> None:
        for kind, amount in amounts.items():
            book[kind] = book.get(kind, 0.0) + sign * amount


@dataclass(frozen=True, slots=True)
class Refusal:
    """The limit a request would pass: whose ("user" or "chat"), which kind, and when it resets."""

    scope: str
    kind: str
    limit: float
    used: float
    resets_at: float


@dataclass(slots=True)
class Reservation:
    """Amounts held for one running call, on the tallies of its user and chat."""

    ledger: QuotaLedger
    tallies: tuple[Tally, ...]
    amounts: dict[str, float]
    done: bool = False


@dataclass(slots=True)
class _Scope:
    open: list[Reservation] = field(default_factory=list)
    keep: bool = False


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("quota_scope", default=None)

SubjectKey = tuple[str, str, str, int]  # (scope, platform, id, UTC day)


class QuotaLedger:
    """Counts today's use per user and per chat against the configured daily limits."""

    def __init__(
        self,
        reports: UsageReports,
        prices: PriceTable,
        user_limits: Mapping[str, float],
        chat_limits: Mapping[str, float],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.reports = reports
        self.prices = prices
        self.limits = {"user": dict(user_limits), "chat": dict(chat_limits)}
        self.clock = clock
        self._tallies: dict[SubjectKey, Tally] = {}
        self._loading: dict[SubjectKey, asyncio.Task[Tally]] = {}

    @property
    def active(self) -> bool:
        return bool(self.limits["user"] or self.limits["chat"])

    def today(self) -> int:
        return int(self.clock() // DAY_S)

    async def reserve(
        self, platform: str, user_id: str, chat_id: str, amounts: Mapping[str, float]
    ) -> Reservation | Refusal:
        """Hold `amounts` on the user's and the chat's day, or say which limit forbids it."""
        day = self.today()
        subjects = [
            (scope, subject)
            for scope, subject in (("user", user_id), ("chat", chat_id))
            if self.limits[scope]
        ]
        tallies = [await self._tally((scope, platform, sub, day)) for scope, sub in subjects]
        # From here to the end: no await, so no other check interleaves.
        for (scope, _subject), tally in zip(subjects, tallies, strict=True):
            for kind, limit in self.limits[scope].items():
                wanted = amounts.get(kind, 0.0)
                if wanted <= 0:
                    continue
                taken = tally.used.get(kind, 0.0) + tally.reserved.get(kind, 0.0)
                if taken + wanted > limit:
                    return Refusal(scope, kind, limit, taken, (day + 1) * DAY_S)
        for tally in tallies:
            tally.add(tally.reserved, amounts)
        reservation = Reservation(self, tuple(tallies), dict(amounts))
        scope_now = _SCOPE.get()
        if scope_now is not None:
            scope_now.open.append(reservation)
        return reservation

    def settle(self, reservation: Reservation, actual: Mapping[str, float]) -> None:
        """Replace what was held by what the call used."""
        if reservation.done:
            return
        reservation.done = True
        for tally in reservation.tallies:
            tally.add(tally.reserved, reservation.amounts, -1)
            tally.add(tally.used, actual)

    def release(self, reservation: Reservation) -> None:
        """Give back what was held: the call cost nothing."""
        self.settle(reservation, {})

    async def record(self, event: UsageEvent) -> None:
        """A usage event was stored: settle the oldest open reservation of this command, or
        count it on today's tallies when it had none."""
        actual = event_amounts(self.prices, event)
        scope = _SCOPE.get()
        while scope is not None and scope.open:
            reservation = scope.open.pop(0)
            if not reservation.done:
                self.settle(reservation, actual)
                return
        if not self.active:
            return
        day = self.today()
        for name, subject in (("user", event.user_id), ("chat", event.chat_id)):
            if self.limits[name]:
                tally = await self._tally((name, event.platform, subject, day))
                tally.add(tally.used, actual)

    async def _tally(self, key: SubjectKey) -> Tally:
        found = self._tallies.get(key)
        if found is not None:
            return found
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.create_task(self._load(key))
            self._loading[key] = loading
            loading.add_done_callback(lambda _t: self._loading.pop(key, None))
        return await asyncio.shield(loading)

    async def _load(self, key: SubjectKey) -> Tally:
        scope, platform, subject, day = key
        since = float(day * DAY_S)
        if scope == "user":
            totals = await self.reports.of_user(platform, subject, since)
        else:
            totals = await self.reports.of_chat(platform, subject, since)
        tally = Tally(used=total_amounts(self.prices, totals))
        # Yesterday's tallies are not needed any more.
        for old in [k for k in self._tallies if k[3] < day]:
            del self._tallies[old]
        return self._tallies.setdefault(key, tally)


@contextlib.contextmanager
def reservation_scope() -> Iterator[None]:
    """One command's reservations: what is not settled when it ends is released (or kept)."""
    scope = _Scope()
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)
        for reservation in scope.open:
            if scope.keep:
                reservation.ledger.settle(reservation, reservation.amounts)
            else:
                reservation.ledger.release(reservation)


def keep_reservations() -> None:
    """The gateway may have charged for a call that failed: count what was held as spent."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.keep = True
