"""What we know about a model from its id: vision, the completions endpoint, context window."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Ids that take image parts in /v1/chat/completions.
_VISION = re.compile(
    r"^(gpt-4o|chatgpt-4o|gpt-4-vision|gpt-4-turbo(?!-preview)|gpt-4\.1|gpt-4\.5|gpt-5|o1(?!-mini)"
    r"|o3|o4|gpt-4-all|claude-3|claude-.*-4|gemini-1\.5|gemini-2|glm-4v|qwen-vl|qwen2-vl)"
    r"|-vision|vision-"
)
_INSTRUCT = re.compile(r"-instruct(?:$|-)")
# Listed by /v1/models but not chat models: images, audio, embeddings, MJ billing pseudo-models.
_NOT_CHAT = re.compile(
    r"^(dall-e|whisper|tts-|mj_|swap_face$|midjourney|text-moderation|omni-moderation)"
    r"|embedding|^text-search|^text-similarity|^code-search"
)
# Context windows of models small enough that the configured budget may not fit; the first
# matching prefix wins, so more specific ids come first. Models not listed keep the budget.
_WINDOWS: tuple[tuple[str, int], ...] = (
    ("gpt-3.5-turbo-instruct", 4096),
    ("gpt-3.5-turbo-16k", 16385),
    ("gpt-3.5-turbo-0301", 4096),
    ("gpt-3.5-turbo-0613", 4096),
    ("gpt-3.5-turbo", 16385),
    ("gpt-4-32k", 32768),
    ("gpt-4-0314", 8192),
    ("gpt-4-0613", 8192),
    ("gemini-pro-vision", 16384),
    ("gemini-pro", 32760),
    ("text-davinci", 4097),
    ("llama-2", 4096),
)
_EXACT_WINDOWS = {"gpt-4": 8192}
MIN_BUDGET = 512


def is_vision(model: str) -> bool:
    """Whether the model accepts image parts."""
    return bool(_VISION.search(model.lower()))


def is_instruct(model: str) -> bool:
    """`*-instruct` models answer on /v1/completions, not /v1/chat/completions."""
    return bool(_INSTRUCT.search(model.lower()))


def is_chat_model(model: str) -> bool:
    """Whether /ask can use the model (filters /v1/models down to text models)."""
    return bool(model) and not _NOT_CHAT.search(model.lower())


def context_window(model: str) -> int | None:
    """The model's context window in tokens when it is small enough to matter, else None."""
    name = model.lower()
    if name in _EXACT_WINDOWS:
        return _EXACT_WINDOWS[name]
    for prefix, window in _WINDOWS:
        if name.startswith(prefix):
            return window
    return None


def reply_reserve(model: str) -> int:
    """Tokens kept free for the answer (also the max_tokens asked of /v1/completions)."""
    window = context_window(model)
    return 1024 if window is None else min(1024, window // 4)


def prompt_budget(model: str, configured: int) -> int:
    """Tokens the prompt may use: the configured budget, lowered to fit a small window."""
    window = context_window(model)
    budget = configured if window is None else min(configured, window - reply_reserve(model))
    return max(MIN_BUDGET, budget)


def is_allowed(model: str, allowed: Iterable[str]) -> bool:
    """Whether the operator lets users pick `model` (an empty allowlist allows every model)."""
    allowed = list(allowed)
    return not allowed or model in allowed


def vision_fallback(default_model: str, allowed: Iterable[str]) -> str | None:
    """The model to answer a picture when the user's model cannot see: the default if it can,
    else an allowed vision model, else gpt-4o(-mini) when nothing restricts the choice."""
    allowed = list(allowed)
    candidates = [default_model, *allowed, "gpt-4o-mini", "gpt-4o"]
    for model in candidates:
        if is_vision(model) and is_allowed(model, allowed):
            return model
    return None
