"""The message catalog: every language complete, every message renders and reads as one sentence.

When a new key lands in en.py without its Chinese (or the other way round), the first test
names every missing key so the translation can be added in one go.
"""

from __future__ import annotations

import importlib
import re
import string
import unicodedata
from collections.abc import Mapping

import pytest

from bot.i18n import Catalog
from bot.i18n import en as en_catalog
from bot.upstream import errors

LANGUAGES = Catalog().languages()
EN: Mapping[str, str] = en_catalog.MESSAGES
OTHERS = [language for language in LANGUAGES if language != "en"]


def messages(language: str) -> Mapping[str, str]:
    catalog: Mapping[str, str] = importlib.import_module(f"bot.i18n.{language}").MESSAGES
    return catalog


# Typical values, so that a rendered message reads as a user would see it.
TYPICAL: dict[str, object] = {
    "command": "imagine", "reason": "the admin turned it off", "message": "Something broke.",
    "length": 5200, "limit": 4000, "model": "gpt-4o-mini", "vision": "gpt-4o",
    "size": 12.5, "tokens": 130000, "models": "gpt-4o, gpt-4o-mini", "engine": "flux",
    "name": "cat.txt", "size_mb": 31.2, "limit_mb": 30, "count": 3, "dimensions": "round",
    "prompt": "a red fox in the snow", "label": "U1", "title": "a red fox in the snow",
    "minutes": 10, "prompts": "1️⃣ a fox\n\n2️⃣ a red fox", "n": 2, "seed": 1234567,
    "text": "hello there", "voice": "robot", "voices": "alloy, echo, nova",
    "path": "pics/cat.png", "value": "maybe", "choices": "portrait, square, landscape",
    "example": "square", "number": 4, "default": "yes", "word": "blood",
}

# Two identical punctuation marks in a row, or a sentence end followed by another one.
DOUBLED_PUNCTUATION = re.compile(r"[.!?,;:。！？，；：、]{2,}")
DOUBLED_WORD = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")


def fields(template: str) -> set[tuple[str, str, str]]:
    """The placeholders of a template: (name, format spec, conversion)."""
    return {
        (name, spec or "", conversion or "")
        for _, name, spec, conversion in string.Formatter().parse(template)
        if name is not None
    }


def literal(template: str) -> str:
    """The template's own text, placeholders left out."""
    return "".join(text for text, *_ in string.Formatter().parse(template))


def dummy(name: str, spec: str) -> object:
    """A value for a placeholder: the typical one, or one that fits its format spec."""
    if spec[-1:] in ("d", "x", "X", "o", "b", "n", "c"):
        return 3
    if spec[-1:] in ("f", "F", "e", "E", "g", "G", "%"):
        return 1.5
    return TYPICAL.get(name, f"{name.upper()}1")


def render(template: str, **given: object) -> str:
    values = {name: dummy(name, spec) for name, spec, _ in fields(template)}
    values.update(given)
    return template.format(**values)


def repeated_phrase(text: str) -> str | None:
    """A run of three words (or four Chinese characters) that the text says twice."""
    words = re.findall(r"[a-z']+", text.lower())
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - 2):
        gram = tuple(words[i : i + 3])
        if gram in seen:
            return " ".join(gram)
        seen.add(gram)
    chars: set[str] = set()
    for run in CJK_RUN.findall(text):
        for i in range(len(run) - 3):
            if run[i : i + 4] in chars:
                return run[i : i + 4]
        chars.update(run[i : i + 4] for i in range(len(run) - 3))
    return None


def reads_badly(text: str, own_words: str | None = None) -> list[str]:
    """What makes a rendered message read badly: doubled words, punctuation or phrases.

    Phrases said twice are looked for in `own_words` when given (the template's text, so that
    typical values such as a model and the list of models holding it do not count)."""
    problems = [f"doubled word {m.group(0)!r}" for m in DOUBLED_WORD.finditer(text)]
    problems += [f"doubled punctuation {m.group(0)!r}" for m in DOUBLED_PUNCTUATION.finditer(text)]
    phrase = repeated_phrase(text if own_words is None else own_words)
    if phrase:
        problems.append(f"says {phrase!r} twice")
    return problems


# --- completeness ------------------------------------------------------------------------


@pytest.mark.parametrize("language", OTHERS)
def test_every_key_exists_in_every_language(language: str) -> None:
    theirs = messages(language)
    missing = sorted(set(EN) - set(theirs))
    extra = sorted(set(theirs) - set(EN))
    report = []
    if missing:
        report.append(f"{len(missing)} key(s) in en.py missing from {language}.py:")
        report += [f"    {key!r}: {EN[key]!r}" for key in missing]
    if extra:
        report.append(f"{len(extra)} key(s) in {language}.py that en.py does not have:")
        report += [f"    {key!r}" for key in extra]
    assert not report, "\n".join(report)


@pytest.mark.parametrize("language", OTHERS)
def test_translations_keep_the_english_placeholders(language: str) -> None:
    theirs = messages(language)
    wrong = [
        f"    {key!r}: en has {sorted(fields(EN[key]))}, {language} has {sorted(fields(text))}"
        for key, text in theirs.items()
        if key in EN and fields(text) != fields(EN[key])
    ]
    assert not wrong, "placeholders differ from English:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", OTHERS)
def test_translations_keep_markdown_and_emoji(language: str) -> None:
    def markers(template: str) -> tuple[int, int, int, set[str]]:
        text = literal(template)
        emoji = {ch for ch in text if unicodedata.category(ch) == "So"}
        return text.count("**"), text.replace("**", "").count("_"), text.count("`"), emoji

    theirs = messages(language)
    wrong = [
        f"    {key!r}: en {markers(EN[key])}, {language} {markers(text)}"
        for key, text in theirs.items()
        if key in EN and markers(text) != markers(EN[key])
    ]
    assert not wrong, "(**, _, `, emoji) differ from English:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_renders_with_typical_values(language: str) -> None:
    failures = []
    for key, template in messages(language).items():
        try:
            rendered = render(template)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            failures.append(f"    {key!r}: {type(exc).__name__}: {exc}")
            continue
        if not rendered.strip():
            failures.append(f"    {key!r}: renders empty")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_doubles_words_or_punctuation(language: str) -> None:
    bad = [
        f"    {key!r}: {problems} in {render(template)!r}"
        for key, template in messages(language).items()
        if (problems := reads_badly(render(template), literal(template)))
    ]
    assert not bad, "\n".join(bad)


# --- messages that wrap another message ------------------------------------------------

# Each error the client can raise, with the catalog key holding its words.
UPSTREAM_ERRORS: list[tuple[errors.UpstreamError, str, dict[str, object]]] = [
    (errors.UpstreamError(), "upstream.failed", {}),
    (errors.AuthenticationError(), "upstream.authentication", {}),
    (errors.PermissionDenied(), "upstream.permission", {}),
    (errors.QuotaExceeded(), "upstream.quota", {}),
    (errors.RateLimited(retry_after=30), "upstream.rate_limited", {}),
    (errors.InvalidRequest(), "upstream.invalid_request", {}),
    (errors.NotFound(), "upstream.not_found", {}),
    (errors.TaskNotReady(), "upstream.task_not_ready", {}),
    (errors.ServerError(), "upstream.server_error", {}),
    (errors.NotSupported(), "upstream.not_supported", {}),
    (errors.BadResponse(), "upstream.bad_response", {}),
    (errors.UpstreamTimeout(), "upstream.timeout", {}),
    (errors.ConnectionFailed(), "upstream.connection_failed", {}),
    (errors.StreamInterrupted("half an ans"), "upstream.stream_interrupted", {}),
    (errors.MjSubmitRejected(7, "nope"), "upstream.mj_rejected", {}),
    (errors.BannedPrompt(24, "banned"), "upstream.banned_prompt", {}),
    (
        errors.BannedPrompt(24, "banned", properties={"bannedWord": "blood"}),
        "upstream.banned_word",
        {"word": "blood"},
    ),
    (errors.QueueFull(23, "queue full"), "upstream.queue_full", {}),
    (errors.ModelNotAvailable(), "upstream.model_not_available", {}),
    (errors.ModelNotAvailable(model="gpt-9"), "upstream.model_named", {"model": "gpt-9"}),
    (errors.NotOffered(), "upstream.not_offered", {}),
    (errors.DestinationRefused("10.0.0.1", "private"), "upstream.destination_refused", {}),
]
MJ_ERRORS = [case for case in UPSTREAM_ERRORS if isinstance(case[0], errors.MjSubmitRejected)]


def upstream_words(language: str, key: str, values: dict[str, object]) -> str:
    return messages(language)[key].format(**values)


def test_every_upstream_error_class_has_its_words_in_the_catalog() -> None:
    def subclasses(cls: type[errors.UpstreamError]) -> set[type[errors.UpstreamError]]:
        found = {cls}
        for sub in cls.__subclasses__():
            found |= subclasses(sub)
        return found

    covered = {type(error) for error, _, _ in UPSTREAM_ERRORS}
    uncovered = sorted(cls.__name__ for cls in subclasses(errors.UpstreamError) - covered)
    assert not uncovered, f"add an upstream.* key (en and zh) and a case here for {uncovered}"
    drifted = [
        f"    {key!r}: errors.py says {error.user_message!r}, en.py {EN[key]!r}"
        for error, key, values in UPSTREAM_ERRORS
        if upstream_words("en", key, values) != error.user_message
    ]
    assert not drifted, "update en.py and zh.py to the new words:\n" + "\n".join(drifted)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("error", "key", "values"), UPSTREAM_ERRORS, ids=[case[1] for case in UPSTREAM_ERRORS]
)
def test_an_upstream_error_reads_as_one_sentence(
    language: str, error: errors.UpstreamError, key: str, values: dict[str, object]
) -> None:
    words = error.user_message if language == "en" else upstream_words(language, key, values)
    shown = messages(language)["error.upstream"].format(message=words)
    assert words in shown
    assert not reads_badly(shown), shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_cut_answer_says_so_once(language: str) -> None:
    error = errors.StreamInterrupted("half an ans")
    words = error.user_message if language == "en" else upstream_words(
        language, "upstream.stream_interrupted", {}
    )
    shown = messages(language)["chat.cut"].format(reason=words)
    assert not reads_badly(shown), shown
    if language == "en":
        assert shown == "⚠️ _The answer was cut off. Ask again to continue._"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_failed_midjourney_job_reads_well_whatever_its_reason(language: str) -> None:
    catalog = messages(language)
    reasons = [
        error.user_message if language == "en" else upstream_words(language, key, values)
        for error, key, values in MJ_ERRORS
    ]
    reasons += [catalog["mj.no_reason"], "Banned prompt detected", "cancelled"]
    for reason in reasons:
        shown = catalog["mj.failed"].format(title=TYPICAL["title"], reason=reason)
        assert reason in shown
        assert not reads_badly(shown), shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_job_titles_read_well_in_progress_and_result_messages(language: str) -> None:
    catalog = messages(language)
    # mj.title.dalle is a progress text of its own, never wrapped.
    titles = [
        render(text)
        for key, text in catalog.items()
        if key.startswith("mj.title.") and key != "mj.title.dalle"
    ]
    for wrapper in ("mj.progress.queued", "mj.progress.running", "mj.done"):
        for title in titles:
            shown = catalog[wrapper].format(title=title)
            assert not reads_badly(shown), shown
