"""The message catalog: every user-facing sentence, keyed by language then message key."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.i18n import en, zh

log = logging.getLogger(__name__)

_CATALOGS: dict[str, Mapping[str, str]] = {"en": en.MESSAGES, "zh": zh.MESSAGES}
DEFAULT_LANGUAGE = "en"


class Catalog:
    """Looks up and formats messages; falls back to English, then to the key itself."""

    def __init__(self, default_language: str = DEFAULT_LANGUAGE) -> None:
        self.default_language = default_language if default_language in _CATALOGS else "en"

    def languages(self) -> list[str]:
        return sorted(_CATALOGS)

    def resolve_language(self, wanted: str | None) -> str:
        """Map a platform language code ("en-US", "zh-hans") to a catalog we have."""
        if wanted:
            short = wanted.lower().split("-")[0].split("_")[0]
            if short in _CATALOGS:
                return short
        return self.default_language

    def has(self, language: str | None, key: str) -> bool:
        """Whether `key` exists in `language` (or in English)."""
        return key in _CATALOGS[self.resolve_language(language)] or key in en.MESSAGES

    def t(self, language: str | None, key: str, **values: object) -> str:
        """The message `key` in `language`, formatted with `values`."""
        lang = self.resolve_language(language)
        template = _CATALOGS[lang].get(key) or en.MESSAGES.get(key)
        if template is None:
            log.error("message key %r missing from the catalog", key)
            return key
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            log.exception("message %r could not be formatted", key)
            return template
