"""Our own getUpdates loop: nothing is confirmed to Telegram before it is on disk.

PTB's Updater confirms a batch (by asking for the next offset) before its handlers run, so a
kill -9 loses whatever was in flight. Here each batch is stored with the offset after it in one
transaction, and only then is the next poll (which confirms the batch) made; the router then
runs the stored updates. At start, updates a crash left unstarted are run; ones it cut short
are reported to their senders instead of being run twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter

from adapters.telegram.pacing import retry_seconds
from adapters.telegram.redact import redact
from adapters.telegram.router import Router
from storage.telegram_updates import StoredUpdate, TelegramUpdates, UpdateState

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT_S = 25.0
# After a failed poll or store write: wait this long, doubling up to the maximum.
RETRY_MIN_S = 0.5
RETRY_MAX_S = 30.0
PRUNE_EVERY_S = 3600.0


class Intake:
    """Polls, stores, hands over; `start` also replays what a crash left behind."""

    def __init__(
        self, bot: Bot, store: TelegramUpdates, router: Router,
        *, poll_timeout: float = POLL_TIMEOUT_S,
        on_rate_limited: Callable[[], None] | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.router = router
        self.poll_timeout = poll_timeout
        self.on_rate_limited = on_rate_limited
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    async def start(self) -> None:
        """Replay stored work, then start polling."""
        for stored in await self.store.in_state(UpdateState.STARTED):
            update = self._parse(stored)
            if update is not None:
                log.warning("update %d was cut short by a restart", stored.update_id)
                self.router.interrupted(stored.update_id, update)
        replay = await self.store.in_state(UpdateState.STORED)
        if replay:
            log.info("handling %d updates stored before the restart", len(replay))
        for stored in replay:
            update = self._parse(stored)
            if update is not None:
                self.router.accept(stored.update_id, update)
        self._task = asyncio.get_running_loop().create_task(self._poll(), name="telegram-intake")

    async def stop(self) -> None:
        """Stop polling (stored work is left for the next start)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _poll(self) -> None:
        offset = await self.store.next_offset()
        delay = RETRY_MIN_S
        last_prune = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset or None, timeout=int(self.poll_timeout),
                    allowed_updates=ALLOWED_UPDATES,
                )
                if updates:
                    offset = await self._store(updates)
                delay = RETRY_MIN_S
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                if self.on_rate_limited is not None:
                    self.on_rate_limited()
                await asyncio.sleep(retry_seconds(exc))
                continue
            except (InvalidToken, Conflict) as exc:
                # A revoked token or a second poller: say so loudly, keep trying slowly.
                log.error("Telegram refused getUpdates: %s", redact(str(exc)))
                delay = RETRY_MAX_S
                await asyncio.sleep(delay)
                continue
            except Exception as exc:  # network, 5xx, bad JSON: retry, never give up
                log.warning("getUpdates failed (%s); retrying in %.1f s", redact(repr(exc)), delay)
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)
                continue
            if loop.time() - last_prune > PRUNE_EVERY_S:
                last_prune = loop.time()
                try:
                    await self.store.prune()
                except Exception as exc:
                    log.warning("pruning handled updates failed: %s", exc)

    async def _store(self, updates: tuple[Update, ...]) -> int:
        """Store a batch with its offset (retrying until it is on disk); then hand it over."""
        batch = [StoredUpdate(u.update_id, json.dumps(u.to_dict())) for u in updates]
        next_offset = max(u.update_id for u in updates) + 1
        delay = RETRY_MIN_S
        while True:
            try:
                fresh = set(await self.store.store_batch(batch, next_offset))
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Unstored updates stay unconfirmed: Telegram sends them again if we die here.
                log.error("could not store updates (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)
        self.batches += 1
        for update in updates:
            if update.update_id in fresh:
                self.router.accept(update.update_id, update)
        return next_offset

    def _parse(self, stored: StoredUpdate) -> Update | None:
        try:
            return Update.de_json(json.loads(stored.payload), self.bot)
        except Exception:
            log.exception("stored update %d could not be read; skipped", stored.update_id)
            self.router.skip(stored.update_id)
            return None
