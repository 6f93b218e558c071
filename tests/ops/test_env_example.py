"""`.env.example` is the operator's list of settings: it names every one the bot reads."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def documented() -> set[str]:
    names = re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(encoding="utf-8"), re.M)
    return {name.lower() for name in names}


def test_every_setting_is_listed_in_env_example_with_a_comment() -> None:
    missing = sorted(set(Settings.model_fields) - documented())
    assert not missing, f"add these to .env.example with a one-line comment: {missing}"


def test_env_example_names_no_setting_the_bot_does_not_read() -> None:
    unknown = sorted(documented() - set(Settings.model_fields))
    assert not unknown, f"not settings of the bot (misspelt or removed?): {unknown}"
