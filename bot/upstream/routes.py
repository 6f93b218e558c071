"""Every gateway endpoint the client calls, declared once: path, billing, queue, timeout, answer.

The exchange loop reads these instead of per-call flags (a call adds only whether it streams,
and a download whether it is urgent): `paid` decides what may be retried
(see `retry.py`), `queued` whether the call waits among the quick calls (see `Exchange`),
`timeout` which read timeout applies, `answer` how a 2xx body is parsed, `family` which
capability a 404 on the route takes away (see `capabilities.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from bot.upstream.models import MjTask, SubmitResult
from bot.upstream.wire import (
    Completion,
    EmbeddingsResponse,
    ImagesResponse,
    ModelEntry,
    ModelList,
    SeedResult,
    TranscriptAnswer,
)

T = TypeVar("T")


class Timeout(Enum):
    """Which read timeout a route gets."""

    POLL = "poll"  # quick reads: at most 30 s whatever the long timeout is
    LONG = "long"  # generations and paid calls: the configured read timeout


class Family(Enum):
    """What a gateway may or may not offer; a route belongs to one."""

    MODELS = "models"
    CHAT = "chat"
    IMAGE = "image"
    EMBEDDING = "embedding"
    TRANSCRIPTION = "transcription"
    SPEECH = "speech"
    MIDJOURNEY = "midjourney"
    # queue and cancel: upstream-only routes new-api never serves; missing says nothing of MJ
    MIDJOURNEY_EXTRAS = "midjourney queue/cancel"
    FILES = "files"


def _raw(body: bytes) -> bytes:
    return body


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    """One endpoint; `path` may hold `{id}`; `answer` parses a 2xx body."""

    method: str
    path: str
    family: Family
    answer: Callable[[bytes], T]
    paid: bool
    # Waits for a place among the quick calls. Streams and long generations do not: they are
    # few, and a handful taking a minute each must not hold every submit and poll behind them.
    queued: bool = True
    timeout: Timeout = Timeout.LONG

    def path_for(self, id_: str) -> str:
        """The path with its `{id}` filled (a task id, a model id)."""
        return self.path.replace("{id}", id_)


_TASK = TypeAdapter(MjTask).validate_json
_TASKS = TypeAdapter(list[MjTask]).validate_json

# ---- /v1 -----------------------------------------------------------------------------------
MODELS = Route("GET", "/v1/models", Family.MODELS, ModelList.model_validate_json, paid=False,
               timeout=Timeout.POLL)
MODEL = Route("GET", "/v1/models/{id}", Family.MODELS, ModelEntry.model_validate_json, paid=False,
              timeout=Timeout.POLL)
CHAT = Route("POST", "/v1/chat/completions", Family.CHAT, Completion.model_validate_json,
             paid=True, queued=False)
COMPLETIONS = Route("POST", "/v1/completions", Family.CHAT, Completion.model_validate_json,
                    paid=True, queued=False)
IMAGES = Route("POST", "/v1/images/generations", Family.IMAGE,
               ImagesResponse.model_validate_json, paid=True, queued=False)
EMBEDDINGS = Route("POST", "/v1/embeddings", Family.EMBEDDING,
                   EmbeddingsResponse.model_validate_json, paid=True)
TRANSCRIPTIONS = Route("POST", "/v1/audio/transcriptions", Family.TRANSCRIPTION,
                       TranscriptAnswer.model_validate_json, paid=True, queued=False)
TRANSLATIONS = Route("POST", "/v1/audio/translations", Family.TRANSCRIPTION,
                     TranscriptAnswer.model_validate_json, paid=True, queued=False)
SPEECH = Route("POST", "/v1/audio/speech", Family.SPEECH, _raw, paid=True, queued=False)

# ---- files (result images, linked images): absolute URLs or paths under the base URL --------
DOWNLOAD = Route("GET", "", Family.FILES, _raw, paid=False)

# ---- /mj -----------------------------------------------------------------------------------
_SUBMIT = SubmitResult.model_validate_json
MJ_IMAGINE = Route("POST", "/mj/submit/imagine", Family.MIDJOURNEY, _SUBMIT, paid=True)
MJ_ACTION = Route("POST", "/mj/submit/action", Family.MIDJOURNEY, _SUBMIT, paid=True)
MJ_MODAL = Route("POST", "/mj/submit/modal", Family.MIDJOURNEY, _SUBMIT, paid=True)
MJ_BLEND = Route("POST", "/mj/submit/blend", Family.MIDJOURNEY, _SUBMIT, paid=True)
MJ_DESCRIBE = Route("POST", "/mj/submit/describe", Family.MIDJOURNEY, _SUBMIT, paid=True)
MJ_SHORTEN = Route("POST", "/mj/submit/shorten", Family.MIDJOURNEY, _SUBMIT, paid=True)
MJ_SWAP_FACE = Route("POST", "/mj/insight-face/swap", Family.MIDJOURNEY, _SUBMIT, paid=True)
MJ_FETCH = Route("GET", "/mj/task/{id}/fetch", Family.MIDJOURNEY, _TASK, paid=False,
                 timeout=Timeout.POLL)
# The tracker's one poll per interval must not wait behind a burst of submits.
MJ_LIST = Route("POST", "/mj/task/list-by-condition", Family.MIDJOURNEY, _TASKS, paid=False,
                queued=False, timeout=Timeout.POLL)
MJ_IMAGE_SEED = Route("GET", "/mj/task/{id}/image-seed", Family.MIDJOURNEY,
                      SeedResult.model_validate_json, paid=False)
MJ_CANCEL = Route("POST", "/mj/task/{id}/cancel", Family.MIDJOURNEY_EXTRAS, _raw, paid=False,
                  timeout=Timeout.POLL)
MJ_RECENT = Route("GET", "/mj/task/list", Family.MIDJOURNEY_EXTRAS, _TASKS, paid=False,
                  timeout=Timeout.POLL)
MJ_QUEUE = Route("GET", "/mj/task/queue", Family.MIDJOURNEY_EXTRAS, _TASKS, paid=False,
                 timeout=Timeout.POLL)

ALL_ROUTES: tuple[Route[Any], ...] = (
    MODELS, MODEL, CHAT, COMPLETIONS, IMAGES, EMBEDDINGS, TRANSCRIPTIONS,
    TRANSLATIONS, SPEECH, DOWNLOAD, MJ_IMAGINE, MJ_ACTION, MJ_MODAL, MJ_BLEND,
    MJ_DESCRIBE, MJ_SHORTEN, MJ_SWAP_FACE, MJ_FETCH, MJ_LIST, MJ_IMAGE_SEED, MJ_CANCEL, MJ_QUEUE,
    MJ_RECENT,
)
