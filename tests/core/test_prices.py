"""The price table: what the gateway bills each button, operators' overrides, wrong settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.prices import Price, PriceError, PriceTable, mj_action_model, parse_prices


@pytest.mark.parametrize(
    ("custom_id", "model"),
    [
        ("MJ::JOB::upsample::1::3785da15", "mj_upscale"),
        ("MJ::JOB::upsample_v6_2x_subtle::1::3785da15::SOLO", "mj_upscale"),
        ("MJ::JOB::variation::2::3785da15", "mj_variation"),
        ("MJ::JOB::high_variation::1::3785da15::SOLO", "mj_high_variation"),
        ("MJ::JOB::low_variation::1::3785da15::SOLO", "mj_low_variation"),
        ("MJ::JOB::reroll::0::3785da15::SOLO", "mj_reroll"),
        ("MJ::JOB::pan_left::1::3785da15::SOLO", "mj_pan"),
        ("MJ::Outpaint::50::1::3785da15::SOLO", "mj_zoom"),
        ("MJ::CustomZoom::3785da15", "mj_custom_zoom"),
        ("MJ::Inpaint::1::3785da15::SOLO", "mj_inpaint"),
    ],
)
def test_each_button_is_priced_as_the_gateway_bills_it(custom_id: str, model: str) -> None:
    assert mj_action_model(custom_id) == model


def test_overrides_replace_defaults_and_unknown_models_are_never_free() -> None:
    table = PriceTable(parse_prices('{"mj_imagine": 1000, "my-model": {"per_call": 7}}', "x"))
    assert table.price("mj_imagine") == Price(per_call=1000)
    assert table.price("my-model").cost() == 7
    assert table.price("gpt-4o-mini").cost(prompt_tokens=1000, completion_tokens=1000, calls=0) == (
        75 + 300
    )
    assert table.price("never-heard-of-it").cost(prompt_tokens=1000, calls=0) > 0


def test_a_wrong_price_entry_is_named() -> None:
    with pytest.raises(PriceError, match="gpt-4o: per_call"):
        parse_prices('{"gpt-4o": {"per_call": "lots"}}', "PRICE_OVERRIDES")
    with pytest.raises(PriceError, match="not JSON"):
        parse_prices("{gpt-4o: 1}", "PRICE_OVERRIDES")


def test_a_price_file_is_read_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"mj_upscale": {"per_call": 12}}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("PRICES_FILE", str(prices))
    monkeypatch.setenv("PRICE_OVERRIDES", '{"mj_upscale": 13}')
    settings = load_settings()
    table = PriceTable.from_settings(settings.prices_file, settings.price_overrides)
    assert table.price("mj_upscale").per_call == 13  # the environment wins over the file


def test_wrong_limits_are_named_with_what_is_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_DAILY_LIMITS", "mj_jobs=10,pictures=3")
    monkeypatch.setenv("CHAT_DAILY_LIMITS", "cost=-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    problems = "\n".join(caught.value.problems)
    assert "USER_DAILY_LIMITS: expected kind=amount pairs with kinds chat_tokens" in problems
    assert "'pictures=3'" in problems
    assert "CHAT_DAILY_LIMITS: cost: expected a number >= 0" in problems
