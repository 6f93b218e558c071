"""Pydantic models of what the gateway answers, tolerant of the variants in upstream-api.md §10.

Every model ignores unknown fields, defaults missing ones, and treats `null` like a missing
field; numbers are accepted where strings are expected (`result: 1730621826053455`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

_FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCEL"})


class _Lenient(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, coerce_numbers_to_str=True, populate_by_name=True
    )


class _MjLenient(_Lenient):
    model_config = ConfigDict(alias_generator=to_camel)


def _none_to(value: Any, default: Any) -> Any:
    return default if value is None else value


# ---- /v1 ---------------------------------------------------------------------------------


class ModelInfo(_Lenient):
    """One entry of GET /v1/models."""

    id: str = ""
    owned_by: str = ""

    @field_validator("owned_by", mode="before")
    @classmethod
    def _null_owner(cls, v: Any) -> Any:
        return _none_to(v, "")


class Usage(_Lenient):
    """Token counts of one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @field_validator("prompt_tokens", "completion_tokens", "total_tokens", mode="before")
    @classmethod
    def _null_zero(cls, v: Any) -> Any:
        return _none_to(v, 0)


class ChatChunk(_Lenient):
    """One piece of a streamed answer: the text delta, and on the last pieces finish/usage."""

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

    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None


class Transcript(_Lenient):
    """Text of a transcription or translation; language/duration when the gateway gave them."""

    text: str = ""
    language: str | None = None
    duration: float | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _null_text(cls, v: Any) -> Any:
        return _none_to(v, "")


class Downloaded(_Lenient):
    """Bytes of a downloaded file and the Content-Type it came with."""

    data: bytes
    content_type: str = "application/octet-stream"


# ---- /mj ---------------------------------------------------------------------------------


class SubmitResult(_MjLenient):
    """Answer of a /mj/submit/* call: code 1/22 accepted, 21 = complete with mj_modal(task_id)."""

    code: int
    description: str = ""
    task_id: str = Field(default="", alias="result")
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("description", "task_id", mode="before")
    @classmethod
    def _null_str(cls, v: Any) -> Any:
        return _none_to(v, "")

    @field_validator("properties", mode="before")
    @classmethod
    def _null_dict(cls, v: Any) -> Any:
        return _none_to(v, {})

    @property
    def needs_modal(self) -> bool:
        """True when the job waits for mj_modal (Vary Region, Custom Zoom)."""
        return self.code == 21


class MjButton(_MjLenient):
    """A button of a finished task; pass `custom_id` to mj_action."""

    custom_id: str = ""
    emoji: str = ""
    label: str = ""
    type: int = 2
    style: int = 2

    @field_validator("emoji", "label", mode="before")
    @classmethod
    def _null_str(cls, v: Any) -> Any:
        return _none_to(v, "")

    @field_validator("type", "style", mode="before")
    @classmethod
    def _null_two(cls, v: Any) -> Any:
        return _none_to(v, 2)


class MjTask(_MjLenient):
    """A Midjourney task as fetch / list-by-condition return it (gateway shape, §9.2)."""

    id: str = ""
    action: str = ""
    status: str = ""
    progress: str = ""
    image_url: str | None = None
    fail_reason: str | None = None
    prompt: str = ""
    prompt_en: str = ""
    description: str = ""
    buttons: list[MjButton] = Field(default_factory=list)
    submit_time: int | None = None
    start_time: int | None = None
    finish_time: int | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("action", "status", "progress", "prompt", "prompt_en", "description",
                     mode="before")
    @classmethod
    def _null_str(cls, v: Any) -> Any:
        return _none_to(v, "")

    @field_validator("image_url", "fail_reason", mode="before")
    @classmethod
    def _empty_none(cls, v: Any) -> Any:
        return v or None

    @field_validator("submit_time", "start_time", "finish_time", mode="before")
    @classmethod
    def _zero_none(cls, v: Any) -> Any:
        # the gateway writes 0 for "not yet"
        return v or None

    @field_validator("buttons", mode="before")
    @classmethod
    def _null_list(cls, v: Any) -> Any:
        return _none_to(v, [])

    @field_validator("properties", mode="before")
    @classmethod
    def _null_dict(cls, v: Any) -> Any:
        return _none_to(v, {})

    @property
    def percent(self) -> int | None:
        """Progress as a number ("46%" -> 46), None when the gateway gave none."""
        digits = self.progress.strip().rstrip("%").strip()
        try:
            return max(0, min(100, round(float(digits))))
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
