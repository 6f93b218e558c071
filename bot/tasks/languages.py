"""Job owners' languages, looked up once a minute at most (every progress edit needs one)."""

from __future__ import annotations

import time

from bot.services import Services
from storage.base import JobRecord

LANGUAGE_TTL_S = 60.0  # how long an owner's language preference is trusted without a look-up


class OwnerLanguages:
    """The language each job owner's messages are written in."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._known: dict[tuple[str, str], tuple[str, float]] = {}

    async def of(self, job: JobRecord) -> str:
        """The owner's language (their preference, else the bot's default)."""
        key = (job.platform, job.owner_id)
        cached = self._known.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        prefs = await self.services.store.get_prefs(job.platform, job.owner_id)
        language = self.services.catalog.resolve_language(prefs.language)
        self._known[key] = (language, time.monotonic() + LANGUAGE_TTL_S)
        return language
