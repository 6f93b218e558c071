"""What this gateway offers: its models by kind and whether it routes Midjourney at all.

Learned from `/v1/models` and one unpaid Midjourney probe (list-by-condition with no ids),
refreshed when older than `max_age_s`, and corrected at once when a route answers 404 (or
an HTML page) while it was believed present. Unknown is not absent: when a probe fails, the
feature stays offered and the call itself will say what went wrong.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot.upstream.errors import UpstreamError
from bot.upstream.models import ModelInfo
from bot.upstream.routes import Family

log = logging.getLogger(__name__)

# Model ids by kind, from the names gateways use (OpenAI, one-api/new-api, LiteLLM, Ollama).
_MJ_BILLING = re.compile(r"^(mj_|swap_face$)")
_EMBEDDING = re.compile(r"embed|^(bge|e5|gte)-", re.IGNORECASE)
_SPEECH = re.compile(r"(^|[-_/])tts($|[-_])", re.IGNORECASE)
_TRANSCRIPTION = re.compile(r"whisper|transcribe", re.IGNORECASE)
_IMAGE = re.compile(
    r"^(dall-e|gpt-image)|(^|[-_/])(flux|imagen|cogview|kolors|sdxl|sd3|recraft)", re.IGNORECASE
)
_NOT_CHAT = re.compile(r"moderation", re.IGNORECASE)

# What each command needs; commands not listed need nothing from the gateway.
_CHAT_COMMANDS = frozenset({"ask", "model"})
# /jobs lists Midjourney jobs: nothing to list where there is no Midjourney.
_MJ_COMMANDS = frozenset({"describe", "blend", "swapface", "shorten", "jobs"})


@dataclass(frozen=True, slots=True)
class Missing:
    """What a command lacks at this gateway, and what works instead (a command line) if any."""

    feature: str  # "Midjourney", "a chat model", "an image model", "speech", "transcription"
    alternative: str | None = None

    def __str__(self) -> str:
        text = f"This gateway has no {self.feature}"
        return f"{text}; {self.alternative} works here" if self.alternative else f"{text}."


@dataclass(frozen=True, slots=True)
class Capabilities:
    """One snapshot of what the gateway offers. `midjourney` None: not known (probe failed)."""

    # None: not known (no model list could be read); (): known to be none
    chat_models: tuple[str, ...] | None = None
    image_models: tuple[str, ...] | None = None
    speech_models: tuple[str, ...] | None = None
    transcription_models: tuple[str, ...] | None = None
    embedding_models: tuple[str, ...] | None = None
    midjourney: bool | None = None
    problems: tuple[str, ...] = ()  # what the probes could not learn, with the gateway's words

    @classmethod
    def from_models(cls, models: Sequence[ModelInfo], midjourney: bool | None) -> Capabilities:
        """Sort a /v1/models listing by kind."""
        kinds: dict[str, list[str]] = {k: [] for k in ("chat", "image", "speech", "stt", "emb")}
        for model in models:
            name = model.id
            if _MJ_BILLING.match(name) or model.owned_by == "midjourney":
                continue  # billing names of Midjourney actions, not models to call
            if _EMBEDDING.search(name):
                kinds["emb"].append(name)
            elif _SPEECH.search(name):
                kinds["speech"].append(name)
            elif _TRANSCRIPTION.search(name):
                kinds["stt"].append(name)
            elif _IMAGE.search(name):
                kinds["image"].append(name)
            elif not _NOT_CHAT.search(name):
                kinds["chat"].append(name)
        return cls(
            chat_models=tuple(kinds["chat"]), image_models=tuple(kinds["image"]),
            speech_models=tuple(kinds["speech"]), transcription_models=tuple(kinds["stt"]),
            embedding_models=tuple(kinds["emb"]), midjourney=midjourney,
        )

    def lists(self, model: str) -> bool:
        """True when the gateway lists `model`, or when no model list could be read."""
        kinds = (self.chat_models, self.image_models, self.speech_models,
                 self.transcription_models, self.embedding_models)
        if self.chat_models is None:
            return True
        return any(kind is not None and model in kind for kind in kinds)

    def fallback_chat_model(self, preferred: str) -> str | None:
        """`preferred` when listed, else the first listed chat model; None when there is none."""
        if self.lists(preferred):
            return preferred
        return self.chat_models[0] if self.chat_models else None

    def missing(self, command: str, engine: str | None = None) -> Missing | None:
        """What `command` lacks here (None: it can run). `engine` for /imagine's choice."""
        if command in _CHAT_COMMANDS:
            return Missing("chat model") if self.chat_models == () else None
        if command == "imagine":
            if engine == "dalle":
                return Missing("image model") if self.image_models == () else None
            if self.midjourney is not False:
                return None
            return Missing("Midjourney", "/imagine engine:dalle" if self.image_models else None)
        if command in _MJ_COMMANDS:
            return Missing("Midjourney") if self.midjourney is False else None
        if command == "speak":
            return Missing("speech model") if self.speech_models == () else None
        if command == "transcribe":
            return Missing("transcription model") if self.transcription_models == () else None
        return None

    def offers(self, command: str) -> bool:
        """True when `command` belongs in /help and the platform menus at this gateway.

        /imagine is offered when either engine works."""
        if command == "imagine":
            return self.missing("imagine") is None or self.missing("imagine", "dalle") is None
        return self.missing(command) is None

    def missing_reason(self, command: str, engine: str | None = None) -> str | None:
        """Plain text for the user when `command` cannot run here; None when it can."""
        missing = self.missing(command, engine)
        return None if missing is None else str(missing)

    def without(self, family: Family) -> Capabilities:
        """This snapshot with `family` known to be missing."""
        match family:
            case Family.MIDJOURNEY:
                return replace(self, midjourney=False)
            case Family.CHAT:
                return replace(self, chat_models=())
            case Family.IMAGE:
                return replace(self, image_models=())
            case Family.SPEECH:
                return replace(self, speech_models=())
            case Family.TRANSCRIPTION:
                return replace(self, transcription_models=())
            case Family.EMBEDDING:
                return replace(self, embedding_models=())
            case _:
                return self

    def summary(self) -> list[str]:
        """One line per feature, for `modelbridge check`."""

        def names(models: tuple[str, ...] | None) -> str:
            if models is None:
                return "unknown (no model list)"
            return ", ".join(models) if models else "none"

        mj = {True: "yes", False: "no", None: "unknown"}[self.midjourney]
        lines = [
            f"chat models: {names(self.chat_models)}",
            f"image models: {names(self.image_models)}",
            f"speech models: {names(self.speech_models)}",
            f"transcription models: {names(self.transcription_models)}",
            f"embedding models: {names(self.embedding_models)}",
            f"Midjourney: {mj}",
        ]
        return lines + [f"problem: {p}" for p in self.problems]


class _Gateway(Protocol):
    async def list_models(self) -> list[ModelInfo]: ...
    async def probe_midjourney(self) -> bool: ...


@dataclass
class CapabilityWatch:
    """The latest `Capabilities` of one gateway, probed again when older than `max_age_s`."""

    gateway: _Gateway
    max_age_s: float = 900.0
    clock: Callable[[], float] = time.monotonic
    current: Capabilities | None = field(default=None, init=False)
    _probed_at: float = field(default=float("-inf"), init=False)
    # families a 404 proved missing, and when: a refresh keeps them out for `max_age_s` more
    _missing: dict[Family, float] = field(default_factory=dict, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def get(self) -> Capabilities:
        """The current snapshot, probing first when there is none or it is stale."""
        if self.current is not None and self.clock() - self._probed_at < self.max_age_s:
            return self.current
        async with self._lock:  # callers arriving together share one probe
            if self.current is not None and self.clock() - self._probed_at < self.max_age_s:
                return self.current
            return await self.refresh()

    async def refresh(self) -> Capabilities:
        """Probe the gateway now."""
        problems: list[str] = []
        try:
            midjourney: bool | None = await self.gateway.probe_midjourney()
        except UpstreamError as exc:
            midjourney = self.current.midjourney if self.current is not None else None
            problems.append(f"Midjourney probe: {type(exc).__name__}: {exc}")
        try:
            found = Capabilities.from_models(await self.gateway.list_models(), midjourney)
        except UpstreamError as exc:
            problems.append(f"/v1/models: {type(exc).__name__}: {exc}")
            found = Capabilities(midjourney=midjourney)
        now = self.clock()
        for family, since in list(self._missing.items()):
            if family is Family.MIDJOURNEY or now - since >= self.max_age_s:
                del self._missing[family]  # the MJ probe has just answered for itself
            else:
                found = found.without(family)
        self.current = replace(found, problems=(*found.problems, *problems))
        self._probed_at = now
        log.info("gateway capabilities: %s", "; ".join(self.current.summary()))
        return self.current

    async def keep_fresh(self) -> None:
        """Probe now and then every `max_age_s`, for ever (run it as a background task)."""
        while True:
            try:
                await self.refresh()
            except Exception:  # a probe must never end the loop
                log.exception("gateway capabilities probe failed")
            await asyncio.sleep(self.max_age_s)

    def note_not_offered(self, family: Family) -> None:
        """A route of `family` answered 404 / an HTML page: stop believing it is there."""
        self._missing[family] = self.clock()
        if self.current is not None:
            self.current = self.current.without(family)

