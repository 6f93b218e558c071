"""Stored updates to handlers: one queue per (chat, user), albums gathered, states recorded.

A user's messages in a chat are handled in the order sent (a reply to a question never
overtakes the question); different users and chats run side by side, and presses run at once
(the core decides them from the store alone). An update is marked started when its handler
begins and done when it ends, so after a crash the ones never started are handled then, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Message, Update

from adapters.telegram import texts
from adapters.telegram.handlers import UpdateHandlers, chat_ref
from adapters.telegram.redact import redact
from bot.channel import MessageRef
from bot.replies import text_reply
from storage.telegram_updates import TelegramUpdates, UpdateState

log = logging.getLogger(__name__)

# An album arrives as one update per photo; it is complete once none came for this long.
ALBUM_QUIET_S = 0.8
MAX_RUNNING = 128


@dataclass(slots=True)
class _Job:
    update_ids: list[int]
    work: Callable[[], Awaitable[None]]
    message: Message | None


@dataclass(slots=True)
class _Album:
    update_ids: list[int] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class Router:
    """Schedules each accepted update; `drain` waits for everything scheduled."""

    def __init__(
        self, handlers: UpdateHandlers, store: TelegramUpdates, *, max_running: int = MAX_RUNNING
    ) -> None:
        self.handlers = handlers
        self.store = store
        self._slots = asyncio.Semaphore(max_running)
        self._queues: dict[str, deque[_Job]] = {}
        self._albums: dict[tuple[int, str], _Album] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def accept(self, update_id: int, update: Update) -> None:
        """Schedule a fresh (or stored, never started) update; returns at once."""
        query = update.callback_query
        if query is not None:
            self._spawn(self._run(_Job([update_id], lambda: self.handlers.on_press(query), None)))
            return
        message = update.message
        if message is None or message.from_user is None:
            self._spawn(self._mark([update_id], UpdateState.DONE))  # edits, channel posts…
            return
        if message.media_group_id:
            self._gather(update_id, message)
            return
        job = _Job([update_id], lambda: self.handlers.on_messages([message]), message)
        self._enqueue(_queue_key(message), job)

    def skip(self, update_id: int) -> None:
        """Mark an update done without handling it (one that cannot be read)."""
        self._spawn(self._mark([update_id], UpdateState.DONE))

    def interrupted(self, update_id: int, update: Update) -> None:
        """An update whose handling a crash cut short: not run again (it may have started paid
        work); its sender is told to send it again if no answer came."""
        message = update.message

        async def tell() -> None:
            if message is not None and message.from_user is not None:
                chat = chat_ref(message)
                words = texts.say(message.from_user.language_code, "interrupted")
                try:
                    await self.handlers.channel.send(
                        chat, text_reply(words), reply_to=MessageRef(chat, str(message.message_id))
                    )
                except Exception as exc:
                    log.warning("restart notice not sent: %s", redact(repr(exc)))
            await self._mark([update_id], UpdateState.DONE)

        self._spawn(tell())

    async def drain(self, bound_s: float = 30.0) -> None:
        """Wait for scheduled work (albums still gathering included), up to `bound_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound_s
        while (self._tasks or self._albums) and loop.time() < deadline:
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - loop.time()))
            else:
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        """Cancel what still runs (after `drain`)."""
        for album in self._albums.values():
            if album.timer is not None:
                album.timer.cancel()
        self._albums.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- internals --------------------------------------------------------------------------

    def _gather(self, update_id: int, message: Message) -> None:
        key = (message.chat.id, str(message.media_group_id))
        album = self._albums.setdefault(key, _Album())
        album.update_ids.append(update_id)
        album.messages.append(message)
        if album.timer is not None:
            album.timer.cancel()
        album.timer = asyncio.get_running_loop().call_later(
            ALBUM_QUIET_S, self._album_complete, key
        )

    def _album_complete(self, key: tuple[int, str]) -> None:
        album = self._albums.pop(key)
        messages = sorted(album.messages, key=lambda m: m.message_id)
        job = _Job(album.update_ids, lambda: self.handlers.on_messages(messages), messages[0])
        self._enqueue(_queue_key(messages[0]), job)

    def _enqueue(self, key: str, job: _Job) -> None:
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(job)
            return
        self._queues[key] = deque([job])
        self._spawn(self._drain_queue(key))

    async def _drain_queue(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                await self._run(queue[0])
                queue.popleft()
        finally:
            self._queues.pop(key, None)

    async def _run(self, job: _Job) -> None:
        async with self._slots:
            await self._mark(job.update_ids, UpdateState.STARTED)
            try:
                await job.work()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("update %s failed: %s", job.update_ids, redact(repr(exc)))
                await self._tell_failure(job.message)
            await self._mark(job.update_ids, UpdateState.DONE)

    async def _tell_failure(self, message: Message | None) -> None:
        if message is None or message.from_user is None:
            return
        chat = chat_ref(message)
        words = texts.say(message.from_user.language_code, "failed")
        try:
            await self.handlers.channel.send(
                chat, text_reply(words), reply_to=MessageRef(chat, str(message.message_id))
            )
        except Exception as exc:
            log.warning("failure notice not sent: %s", redact(repr(exc)))

    async def _mark(self, update_ids: list[int], state: UpdateState) -> None:
        try:
            await self.store.mark(update_ids, state)
        except Exception as exc:  # the store being down must not stop the chat
            log.error("could not mark updates %s %s: %s", update_ids, state.name, exc)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _queue_key(message: Message) -> str:
    user = message.from_user.id if message.from_user else 0
    return f"{message.chat.id}:{user}"
