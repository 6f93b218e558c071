"""The context window's rules as a user relies on them: the newest turns that fit are sent, the
running summary and the system prompt are always there and always paid for, and trimming ends."""

from __future__ import annotations

from typing import Any

import pytest

from bot.context.tokens import REPLY_PRIMING, message_tokens
from bot.context.window import (
    SUMMARY_INSTRUCTION,
    SUMMARY_PREFIX,
    chat_messages,
    fixed_cost,
    flatten_prompt,
    stored_cost,
    summary_request,
    trim,
)
from storage.base import StoredMessage

# A changed line in trim can make it loop forever: that must fail here, not stall the run.
pytestmark = pytest.mark.timeout(10)

MODEL = "gpt-4o-mini"
# Counts with another vocabulary than the default one: a count made for the wrong model shows.
OLD_MODEL = "gpt-3.5-turbo"
HINDI = "नमस्ते दुनिया"  # 17 tokens for gpt-3.5-turbo, 9 for gpt-4o


def turns(*pairs: tuple[str, int]) -> list[StoredMessage]:
    """Messages alternating user/assistant from the first, with the given stored token costs."""
    roles = ("user", "assistant")
    return [StoredMessage(roles[i % 2], text, tokens=cost) for i, (text, cost) in enumerate(pairs)]


def test_the_newest_turns_that_fit_are_kept_and_the_oldest_dropped() -> None:
    history = turns(("q1", 10), ("a1", 10), ("q2", 10), ("a2", 10))
    window = trim(history, 20, MODEL)
    assert [m.content for m in window.kept] == ["q2", "a2"]
    assert [m.content for m in window.dropped] == ["q1", "a1"]
    assert window.tokens == 20


def test_a_turn_that_fits_exactly_is_kept() -> None:
    window = trim(turns(("q1", 7), ("a1", 5)), 12, MODEL)
    assert [m.content for m in window.kept] == ["q1", "a1"] and window.tokens == 12
    assert window.dropped == []


def test_the_kept_part_never_starts_with_an_answer_whose_question_was_dropped() -> None:
    history = turns(("q1", 10), ("a1", 10), ("q2", 10), ("a2", 10))
    window = trim(history, 30, MODEL)  # a1, q2, a2 would fit
    assert [m.content for m in window.kept] == ["q2", "a2"]
    assert [m.content for m in window.dropped] == ["q1", "a1"]
    assert window.tokens == 20  # the answer left out is not counted


def test_a_history_that_fits_whole_is_kept_whole_whatever_it_starts_with() -> None:
    history = [StoredMessage("assistant", "welcome", tokens=5), *turns(("q1", 5), ("a1", 5))]
    window = trim(history, 100, MODEL)
    assert window.kept == history and window.dropped == [] and window.tokens == 15


def test_nothing_is_kept_when_even_the_newest_turn_does_not_fit() -> None:
    history = turns(("q1", 5), ("a1", 50))
    for room in (49, 0, -10):
        window = trim(history, room, MODEL)
        assert window.kept == [] and window.dropped == history and window.tokens == 0


def test_an_older_small_turn_is_not_kept_after_a_newer_one_did_not_fit() -> None:
    # Keeping q1 while a1 is dropped would send a question with the wrong answer missing.
    history = turns(("q1", 1), ("a1", 50), ("q2", 5), ("a2", 5))
    window = trim(history, 20, MODEL)
    assert [m.content for m in window.kept] == ["q2", "a2"]


def test_trimming_ends_when_nothing_after_the_cut_is_a_question() -> None:
    history = [*turns(("q1", 10), ("a1", 10)), StoredMessage("assistant", "more", tokens=10)]
    window = trim(history, 20, MODEL)
    assert window.kept == [] and window.tokens == 0 and window.dropped == history
    assert trim([], 100, MODEL).kept == []


def test_a_stored_count_is_used_and_a_missing_one_is_counted_for_the_model() -> None:
    assert stored_cost(StoredMessage("user", "hello there", tokens=123), MODEL) == 123
    assert stored_cost(StoredMessage("user", "a much longer text than one token", tokens=1),
                       MODEL) == 1
    assert stored_cost(StoredMessage("user", HINDI), OLD_MODEL) == message_tokens(
        HINDI, OLD_MODEL) != message_tokens(HINDI, MODEL)


def test_turns_stored_without_a_count_are_counted_for_the_model_in_use() -> None:
    history = [StoredMessage("user", HINDI), StoredMessage("assistant", "ok", tokens=3),
               StoredMessage("user", HINDI), StoredMessage("assistant", HINDI)]
    cost = message_tokens(HINDI, OLD_MODEL)
    window = trim(history, 2 * cost + 3, OLD_MODEL)  # room for the last two, and "ok"
    assert window.kept == history[2:] and window.tokens == 2 * cost
    # The answer left out at the cut is taken off at its cost for this model too.
    uncounted = [StoredMessage(role, HINDI) for role in ("user", "assistant") * 2]
    window = trim(uncounted, 3 * cost, OLD_MODEL)
    assert window.kept == uncounted[2:] and window.tokens == 2 * cost


def test_the_system_prompt_is_paid_for_from_the_budget() -> None:
    prompt = "You are a helpful assistant who answers in rhyme."
    assert fixed_cost("", "", 0, MODEL) == REPLY_PRIMING
    assert fixed_cost(prompt, "", 0, MODEL) == REPLY_PRIMING + message_tokens(prompt, MODEL)
    assert fixed_cost(prompt, "", 40, MODEL) == REPLY_PRIMING + 40 + message_tokens(prompt, MODEL)
    assert fixed_cost(HINDI, "", 0, OLD_MODEL) == REPLY_PRIMING + message_tokens(HINDI, OLD_MODEL)


def test_the_running_summary_is_paid_for_from_the_budget() -> None:
    summary = "The user is planning a trip to Lisbon in May."
    with_summary = fixed_cost("sys", summary, 10, MODEL)
    without = fixed_cost("sys", "", 10, MODEL)
    assert with_summary - without == message_tokens(SUMMARY_PREFIX + summary, MODEL)
    assert fixed_cost("", HINDI, 0, OLD_MODEL) - fixed_cost("", "", 0, OLD_MODEL) == (
        message_tokens(SUMMARY_PREFIX + HINDI, OLD_MODEL))


def test_the_running_summary_never_vanishes_from_what_the_model_is_sent() -> None:
    kept = turns(("q2", 3), ("a2", 3))
    messages = chat_messages("Be brief.", "Earlier: the user likes cats.", kept, "and dogs?")
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": SUMMARY_PREFIX + "Earlier: the user likes cats."},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "and dogs?"},
    ]
    # With no system prompt configured the summary is still sent, first.
    alone = chat_messages("", "the user likes cats", [], "hi")
    assert alone[0] == {"role": "system", "content": SUMMARY_PREFIX + "the user likes cats"}
    assert chat_messages("", "", [], "hi") == [{"role": "user", "content": "hi"}]


def test_a_new_turn_with_images_is_sent_as_given() -> None:
    parts = [{"type": "text", "text": "what is this?"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]
    assert chat_messages("", "", [], parts)[-1] == {"role": "user", "content": parts}


def test_a_chat_flattened_for_completion_models_reads_as_a_labelled_dialogue() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "look"},
                                     {"type": "image_url", "image_url": {"url": "x"}},
                                     {"type": "text"},  # a text part with no text
                                     {"type": "text", "text": "here"}]},
        {"role": "assistant", "content": "ok"},
        {"role": "tool", "content": "odd"},
    ]
    assert flatten_prompt(messages) == (
        "System: Be brief.\n\nUser: look  here\n\nAssistant: ok\n\nUser: odd\n\nAssistant:")


def test_the_summary_request_folds_the_old_summary_and_the_dropped_turns() -> None:
    dropped = [*turns(("where is Lisbon?", 1), ("In Portugal.", 1)),
               StoredMessage("system", "note", tokens=1), StoredMessage("tool", "x", tokens=1)]
    request = summary_request("The user travels in May.", dropped)
    assert request == [
        {"role": "system", "content": SUMMARY_INSTRUCTION},
        {"role": "user", "content": "Earlier summary: The user travels in May.\n\n"
                                    "User: where is Lisbon?\n\nAssistant: In Portugal.\n\n"
                                    "System: note\n\nUser: x"},
    ]
    first = summary_request("", turns(("hi", 1)))
    assert first[1] == {"role": "user", "content": "User: hi"}
