"""What a user reads about an upstream failure comes from the catalog, in their language."""

from __future__ import annotations

import pytest

from bot.error_text import upstream_error_text, upstream_words
from bot.i18n import Catalog
from bot.upstream import errors
from tests.core.test_catalog import UPSTREAM_ERRORS
from tests.core.test_catalog import upstream_words as catalog_words

CATALOG = Catalog()
# Named by family, a missing route says which feature (covered below).
PLAIN = [
    case
    for case in UPSTREAM_ERRORS
    if not isinstance(case[0], errors.NotOffered) and not case[0].maybe_charged
]


@pytest.mark.parametrize(("error", "key", "values"), PLAIN, ids=[case[1] for case in PLAIN])
def test_every_upstream_error_reads_as_its_catalog_words_in_english_and_chinese(
    error: errors.UpstreamError, key: str, values: dict[str, object]
) -> None:
    assert upstream_words(CATALOG, "en", error) == error.user_message
    assert upstream_words(CATALOG, "zh", error) == catalog_words("zh", key, values)
    assert upstream_error_text(CATALOG, "en", error) == f"⚠️ {error.user_message}"


def test_a_missing_route_names_the_feature_this_gateway_lacks() -> None:
    gone = errors.NotOffered("Not Found", status=404, family="midjourney")
    assert upstream_words(CATALOG, "en", gone) == "This gateway has no Midjourney."
    assert upstream_words(CATALOG, "zh", gone) == "这个网关没有Midjourney。"
    speech = errors.NotOffered("Not Found", status=404, family="speech")
    assert upstream_words(CATALOG, "en", speech) == "This gateway has no speech model."
    unnamed = errors.NotOffered("Not Found", status=404)
    assert upstream_words(CATALOG, "en", unnamed) == "This gateway does not offer that feature."


def test_a_model_the_gateway_lacks_is_named() -> None:
    error = errors.ModelNotAvailable("Invalid model name passed in model=gpt-9", model="gpt-9")
    assert upstream_error_text(CATALOG, "en", error) == "⚠️ The model gpt-9 is not available here."
    assert upstream_error_text(CATALOG, "zh", error) == "⚠️ 这里没有模型 gpt-9。"
