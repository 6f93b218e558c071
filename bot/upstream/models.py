"""Pydantic models of what the gateway answers, tolerant of the variants in upstream-api.md §10.

Every model ignores unknown fields, defaults missing ones, and treats `null` like a missing
field; numbers are accepted where strings are expected (`result: 1730621826053455`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

_FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCEL"})


def _empty_str(v: Any) -> Any:
    return "" if v is None else v


def _empty_list(v: Any) -> Any:
    return [] if v is None else v


def _empty_dict(v: Any) -> Any:
    return {} if v is None else v


def _falsy_none(v: Any) -> Any:
    # the gateway writes "" / 0 for "not set yet"
    return v or None


NullStr = Annotated[str, BeforeValidator(_empty_str)]
NullDict = Annotated[dict[str, Any], BeforeValidator(_empty_dict)]
NULL_LIST = BeforeValidator(_empty_list)
UNSET_NONE = BeforeValidator(_falsy_none)


class _Lenient(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, coerce_numbers_to_str=True, populate_by_name=True
    )


class _MjLenient(_Lenient):
    model_config = ConfigDict(alias_generator=to_camel)


# ---- /v1 ---------------------------------------------------------------------------------


class ModelInfo(_Lenient):
    """One entry of GET /v1/models."""

    id: NullStr = ""
    owned_by: NullStr = ""


class Usage(_Lenient):
    """Token counts of one call."""

    prompt_tokens: Annotated[int, BeforeValidator(lambda v: v or 0)] = 0
    completion_tokens: Annotated[int, BeforeValidator(lambda v: v or 0)] = 0
    total_tokens: Annotated[int, BeforeValidator(lambda v: v or 0)] = 0


@dataclass(slots=True)
class ChatChunk:
    """One piece of a streamed answer: the text delta, and on the last pieces finish/usage.

    A plain slots dataclass, not a model (nor frozen, which costs 3x to build): one is made
    per token, from values already checked.
    """

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


class ChatResult(_Lenient):
    """A whole (non-streamed) chat or completion answer."""

    text: str
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""


class GeneratedImage(_Lenient):
    """One image of /v1/images/generations: a URL (valid ~60 min) or base64 data."""

    url: Annotated[str | None, UNSET_NONE] = None
    b64_json: Annotated[str | None, UNSET_NONE] = None
    revised_prompt: str | None = None


class Transcript(_Lenient):
    """Text of a transcription or translation; language/duration when the gateway gave them."""

    text: NullStr = ""
    language: Annotated[str | None, UNSET_NONE] = None
    duration: float | None = None


class Downloaded(_Lenient):
    """Bytes of a downloaded file and the Content-Type it came with."""

    data: bytes
    content_type: str = "application/octet-stream"


# ---- /mj ---------------------------------------------------------------------------------


class SubmitResult(_MjLenient):
    """Answer of a /mj/submit/* call: code 1/22 accepted, 21 = complete with mj_modal(task_id)."""

    code: int
    description: NullStr = ""
    task_id: NullStr = Field(default="", alias="result")
    properties: NullDict = Field(default_factory=dict)

    @property
    def needs_modal(self) -> bool:
        """True when the job waits for mj_modal (Vary Region, Custom Zoom)."""
        return self.code == 21


class MjButton(_MjLenient):
    """A button of a finished task; pass `custom_id` to mj_action."""

    custom_id: NullStr = ""
    emoji: NullStr = ""
    label: NullStr = ""
    type: Annotated[int, BeforeValidator(lambda v: 2 if v is None else v)] = 2
    style: Annotated[int, BeforeValidator(lambda v: 2 if v is None else v)] = 2


class MjTask(_MjLenient):
    """A Midjourney task as fetch / list-by-condition return it (gateway shape, §9.2)."""

    id: NullStr = ""
    action: NullStr = ""
    status: NullStr = ""
    progress: NullStr = ""
    image_url: Annotated[str | None, UNSET_NONE] = None
    fail_reason: Annotated[str | None, UNSET_NONE] = None
    prompt: NullStr = ""
    prompt_en: NullStr = ""
    description: NullStr = ""
    buttons: Annotated[list[MjButton], NULL_LIST] = Field(default_factory=list)
    submit_time: Annotated[int | None, UNSET_NONE] = None
    start_time: Annotated[int | None, UNSET_NONE] = None
    finish_time: Annotated[int | None, UNSET_NONE] = None
    properties: NullDict = Field(default_factory=dict)

    @property
    def percent(self) -> int | None:
        """Progress as a number ("46%" -> 46), None when the gateway gave none."""
        try:
            return max(0, min(100, round(float(self.progress.strip().rstrip("%")))))
        except ValueError:
            return None

    @property
    def final_prompt(self) -> str:
        """The prompt Midjourney ran: properties.finalPrompt, else promptEn, else prompt."""
        final = self.properties.get("finalPrompt")
        if isinstance(final, str) and final:
            return final
        return self.prompt_en or self.prompt

    @property
    def is_finished(self) -> bool:
        """True once the task will change no more (SUCCESS, FAILURE or CANCEL)."""
        return self.status in _FINISHED
