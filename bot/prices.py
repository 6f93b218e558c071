"""What each call costs in the gateway's quota units: a default table, overridable by the operator.

new-api bills chat per token (model ratio x tokens, completions at a multiple) and Midjourney per
action through billing pseudo-models (`mj_imagine`, `mj_upscale`, ... see upstream-api.md §2).
The defaults follow new-api's stock ratios (500 000 quota = 1 USD); an operator whose gateway
charges otherwise sets PRICES_FILE (JSON) or PRICE_OVERRIDES.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

QUOTA_PER_USD = 500_000


@dataclass(frozen=True, slots=True)
class Price:
    """One model's price: per 1 000 prompt / completion tokens, per call, per unit (second,
    character, image)."""

    prompt_per_1k: float = 0.0
    completion_per_1k: float = 0.0
    per_call: float = 0.0
    per_unit: float = 0.0

    def cost(self, *, prompt_tokens: int = 0, completion_tokens: int = 0, units: float = 0.0,
             calls: int = 1) -> float:  # fmt: skip
        """What `calls` calls with these amounts cost."""
        return (
            prompt_tokens * self.prompt_per_1k / 1000
            + completion_tokens * self.completion_per_1k / 1000
            + calls * self.per_call
            + units * self.per_unit
        )


def _chat(ratio: float, completion_ratio: float) -> Price:
    # new-api: 1 000 tokens at ratio 1 cost 1 000 quota (0.002 USD).
    return Price(prompt_per_1k=ratio * 1000, completion_per_1k=ratio * completion_ratio * 1000)


def _call(usd: float) -> Price:
    return Price(per_call=usd * QUOTA_PER_USD)


DEFAULT_PRICES: Mapping[str, Price] = {
    "gpt-3.5-turbo": _chat(0.25, 4 / 3),
    "gpt-4": _chat(15, 2),
    "gpt-4-turbo": _chat(5, 3),
    "gpt-4o": _chat(1.25, 4),
    "gpt-4o-mini": _chat(0.075, 4),
    "gpt-4-vision-preview": _chat(5, 3),
    "gemini-pro": _chat(0.25, 3),
    "gemini-pro-vision": _chat(0.25, 3),
    # Whisper is billed by the second of audio, speech by the character, DALL·E by the image.
    "whisper-1": Price(per_unit=0.0001 * QUOTA_PER_USD),
    "tts-1": Price(per_unit=0.000015 * QUOTA_PER_USD),
    "tts-1-hd": Price(per_unit=0.00003 * QUOTA_PER_USD),
    "dall-e-3": _call(0.04),
    "mj_imagine": _call(0.1),
    "mj_variation": _call(0.1),
    "mj_reroll": _call(0.1),
    "mj_blend": _call(0.1),
    "mj_modal": _call(0.1),
    "mj_zoom": _call(0.1),
    "mj_shorten": _call(0.1),
    "mj_high_variation": _call(0.1),
    "mj_low_variation": _call(0.1),
    "mj_pan": _call(0.1),
    "mj_inpaint": _call(0),
    "mj_custom_zoom": _call(0),
    "mj_describe": _call(0.05),
    "mj_upscale": _call(0.05),
    "swap_face": _call(0.05),
    "mj_upload": _call(0.05),
}

# A model missing from the table is priced like this (a chat model of middling price), so an
# unknown model never runs for free against a budget.
FALLBACK = _chat(1, 2)

# Which billing pseudo-model the gateway charges for each Midjourney command.
MJ_COMMAND_MODELS: Mapping[str, str] = {
    "imagine": "mj_imagine",
    "blend": "mj_blend",
    "describe": "mj_describe",
    "shorten": "mj_shorten",
    "swapface": "swap_face",
}

# customId fragments (MJ::JOB::upsample::1::<hash>, MJ::Outpaint::..., ...) -> pseudo-model.
# The longest fragment that matches wins ("upsample_v6_2x_subtle" before "upsample").
_ACTION_FRAGMENTS: tuple[tuple[str, str], ...] = (
    ("::low_variation", "mj_low_variation"),
    ("::high_variation", "mj_high_variation"),
    ("::variation", "mj_variation"),
    ("::upsample", "mj_upscale"),
    ("::reroll", "mj_reroll"),
    ("::pan_", "mj_pan"),
    ("MJ::CustomZoom", "mj_custom_zoom"),
    ("MJ::Outpaint", "mj_zoom"),
    ("MJ::Inpaint", "mj_inpaint"),
)


def mj_action_model(custom_id: str) -> str:
    """The pseudo-model the gateway bills a button press (customId) under."""
    for fragment, model in _ACTION_FRAGMENTS:
        if fragment in custom_id:
            return model
    return "mj_variation"  # remix, vary (strong/subtle) and the rest bill like a variation


class _PriceIn(BaseModel):
    """One entry of PRICES_FILE / PRICE_OVERRIDES; omitted parts cost nothing."""

    model_config = ConfigDict(extra="forbid")
    prompt_per_1k: float = 0.0
    completion_per_1k: float = 0.0
    per_call: float = 0.0
    per_unit: float = 0.0


class PriceError(ValueError):
    """The operator's price configuration cannot be read; says what and where."""


def parse_prices(text: str, source: str) -> dict[str, Price]:
    """Prices from JSON text: `{"model": {"per_call": 50000}, ...}` or `{"model": 50000}`
    (a bare number is a price per call)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PriceError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(raw, dict):
        raise PriceError(f"{source}: expected a JSON object of model -> price")
    prices: dict[str, Price] = {}
    for model, value in raw.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            prices[model] = Price(per_call=float(value))
            continue
        try:
            entry = _PriceIn.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PriceError(f"{source}: {model}: {where} {first['msg']}".strip()) from None
        prices[model] = Price(**entry.model_dump())
    return prices


class PriceTable:
    """The defaults with the operator's overrides on top."""

    def __init__(self, overrides: Mapping[str, Price] | None = None) -> None:
        self._prices = {**DEFAULT_PRICES, **(overrides or {})}

    @classmethod
    def from_settings(cls, prices_file: str | None, price_overrides: str | None) -> PriceTable:
        """Defaults, then PRICES_FILE, then PRICE_OVERRIDES (the last one wins)."""
        merged: dict[str, Price] = {}
        if prices_file:
            try:
                text = Path(prices_file).read_text(encoding="utf-8")
            except OSError as exc:
                reason = exc.strerror
                raise PriceError(f"PRICES_FILE: cannot read {prices_file}: {reason}") from None
            merged.update(parse_prices(text, "PRICES_FILE"))
        if price_overrides:
            merged.update(parse_prices(price_overrides, "PRICE_OVERRIDES"))
        return cls(merged)

    def price(self, model: str) -> Price:
        """The model's price; FALLBACK for a model nobody priced."""
        return self._prices.get(model) or self._prices.get(model.lower()) or FALLBACK

    def known(self, model: str) -> bool:
        return model in self._prices

    def with_override(self, model: str, **parts: float) -> PriceTable:
        """A copy with one model's price changed (tests, previews)."""
        return PriceTable({**self._prices, model: replace(self.price(model), **parts)})
