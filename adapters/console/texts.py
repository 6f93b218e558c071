"""The console's own words (its framing of the bot: files, options, button numbers).

They live in the shared catalog under `console.*`; only the two prompt symbols are fixed here.
"""

from __future__ import annotations

from bot.i18n import Catalog

NOTICE = "*"
PROMPT = "> "

_catalog = Catalog()
_language = _catalog.default_language


def use_language(language: str) -> None:
    """Pick the catalog language for the console's own words (the settings' language)."""
    global _language
    _language = _catalog.resolve_language(language)


def say(key: str, **values: object) -> str:
    """The console message `key` (e.g. "no_such_file") in the chosen language."""
    return _catalog.t(_language, f"console.{key}", **values)
