"""Which model answers users who never chose one, and what start-up and `check` say about
configured models the gateway does not list."""

from __future__ import annotations

from bot.config import Settings
from bot.offers import fallback_model, model_problems
from bot.upstream import Capabilities

LISTED = Capabilities(chat_models=("llama-3.1-8b", "qwen2.5-7b"), image_models=())


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_a_listed_default_model_is_kept_and_nothing_is_said() -> None:
    chosen = settings(default_model="qwen2.5-7b")
    assert fallback_model(chosen, LISTED) == "qwen2.5-7b"
    assert model_problems(chosen, LISTED) == []


def test_an_unlisted_default_gives_way_to_an_allowed_listed_model_first() -> None:
    chosen = settings(default_model="gpt-4o-mini", allowed_models="gpt-4o,qwen2.5-7b")
    assert fallback_model(chosen, LISTED) == "qwen2.5-7b"
    assert model_problems(chosen, LISTED) == [
        "DEFAULT_MODEL gpt-4o-mini is not listed by the gateway; users who never chose a model "
        "get qwen2.5-7b",
        "ALLOWED_MODELS: gpt-4o not listed by the gateway",
    ]


def test_a_gateway_listing_no_chat_model_keeps_the_default_and_says_so() -> None:
    none = Capabilities(chat_models=(), image_models=("dall-e-3",))
    assert fallback_model(settings(), none) == "gpt-4o-mini"
    assert model_problems(settings(), none) == [
        "DEFAULT_MODEL gpt-4o-mini is not listed by the gateway, which lists no chat model"
    ]


def test_with_no_model_list_nothing_is_judged() -> None:
    unknown = Capabilities()
    assert fallback_model(settings(default_model="x"), unknown) == "x"
    assert model_problems(settings(default_model="x", allowed_models="y"), unknown) == []
