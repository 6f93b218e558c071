"""Texts MJ "writes": describe's four prompts (from the image alone) and shorten's analysis."""

from __future__ import annotations

import math
import re

from bot.sandbox.files import DataUrl
from bot.sandbox.images import image_facts


def describe_prompts(upload: DataUrl) -> str:
    """Four numbered prompts derived only from the image: its size and main colour."""
    facts = image_facts(upload.data)
    if facts is None:
        colour, width, height = "muted", 1, 1
        subject = f"an abstract {len(upload.data)}-byte pattern"
    else:
        colour, width, height = facts.colour, facts.width, facts.height
        subject = f"a {colour} picture of {width}x{height} pixels"
    divisor = math.gcd(width, height) or 1
    ar = f"--ar {width // divisor}:{height // divisor}"
    options = (
        f"{subject}, soft light {ar}",
        f"{colour} abstract shapes on a plain background {ar}",
        f"minimalist {colour} composition, high detail {ar}",
        f"a photograph dominated by {colour} tones {ar}",
    )
    emojis = ("1️⃣", "2️⃣", "3️⃣", "4️⃣")
    return "\n\n".join(f"{emoji} {text}" for emoji, text in zip(emojis, options, strict=True))


_PARAMS = re.compile(r"\s--\S+(?:\s+[^-\s]\S*)?")


def shorten_text(prompt: str) -> str:
    """The bot's analysis embed: important tokens, then `Shortened prompts` and five options."""
    params = "".join(_PARAMS.findall(" " + prompt)).strip()
    words = _PARAMS.sub("", " " + prompt).split()
    options = []
    for keep in (1.0, 0.8, 0.6, 0.45, 0.3):
        count = max(1, round(len(words) * keep))
        options.append(" ".join(words[:count] + ([params] if params else [])))
    lines = ["**IMPORTANT TOKENS**", ", ".join(words[:5]), "", "**Shortened prompts**"]
    emojis = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
    lines += [f"{emoji} {option}" for emoji, option in zip(emojis, options, strict=True)]
    return "\n".join(lines)
