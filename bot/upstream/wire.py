"""Response envelopes of the /v1 routes and image-seed, parsed at the edge and unwrapped."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from bot.upstream.models import (
    NULL_LIST,
    GeneratedImage,
    ModelInfo,
    NullStr,
    Transcript,
    Usage,
    _Lenient,
    _MjLenient,
)


class _V1Answer(_Lenient):
    """A /v1 answer; an `error` member (one-api sends some errors with 200) makes it invalid."""

    @model_validator(mode="before")
    @classmethod
    def _not_an_error(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("error"):
            raise ValueError("error envelope")
        return data


class ModelList(_V1Answer):
    """GET /v1/models."""

    data: Annotated[list[ModelInfo], NULL_LIST] = Field(default_factory=list)


class ModelEntry(ModelInfo, _V1Answer):
    """GET /v1/models/{model}; one-api answers an unknown id with 200 and an error body."""


class _Message(_Lenient):
    content: str | None = None


class _Choice(_Lenient):
    message: _Message | None = None
    text: str | None = None  # /v1/completions
    finish_reason: str | None = None


class Completion(_V1Answer):
    """POST /v1/chat/completions (non-stream) and POST /v1/completions."""

    model: NullStr = ""
    choices: Annotated[list[_Choice], NULL_LIST] = Field(default_factory=list)
    usage: Usage | None = None


class ImagesResponse(_V1Answer):
    """POST /v1/images/generations."""

    data: Annotated[list[GeneratedImage], NULL_LIST] = Field(default_factory=list)


class _Embedding(_Lenient):
    index: int = 0
    embedding: list[float] = Field(default_factory=list)


class EmbeddingsResponse(_V1Answer):
    """POST /v1/embeddings."""

    data: Annotated[list[_Embedding], NULL_LIST] = Field(default_factory=list)


class TranscriptAnswer(Transcript, _V1Answer):
    """POST /v1/audio/transcriptions and /translations (json / verbose_json)."""


class SeedResult(_MjLenient):
    """GET /mj/task/{id}/image-seed: `result` is the seed (string or number)."""

    code: int = 0
    description: NullStr = ""
    result: NullStr = ""
