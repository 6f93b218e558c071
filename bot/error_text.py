"""What a user reads when the gateway failed: the catalog entry of the error, in their language.

Each error class names its `upstream.*` key (English identical to its `user_message`). A paid
request whose fate is unknown (the connection broke, or a 502 came, after its body was sent)
says so instead of inviting a retry that could charge twice; a route the gateway lacks says
what this gateway does offer instead.
"""

from __future__ import annotations

from bot.i18n import Catalog
from bot.offers import missing_for_family, missing_text
from bot.upstream import NotOffered, UpstreamError


def upstream_words(
    catalog: Catalog, language: str, error: UpstreamError, *, midjourney: bool = False
) -> str:
    """The error's own sentence; for a request that may have been charged, that instead.

    `midjourney`: the request was a Midjourney submit, kept as an unknown job the user can see.
    """
    if error.maybe_charged:
        key = "mj.maybe_charged" if midjourney else "upstream.maybe_charged"
        return catalog.t(language, key)
    if isinstance(error, NotOffered):
        lack = missing_for_family(error.family)
        if lack is not None:
            return missing_text(catalog, language, lack)
    return catalog.t(language, error.message_key, **error.message_values)


def upstream_error_text(
    catalog: Catalog, language: str, error: UpstreamError, *, midjourney: bool = False
) -> str:
    """The whole error message as shown in the chat."""
    words = upstream_words(catalog, language, error, midjourney=midjourney)
    return catalog.t(language, "error.upstream", message=words)
