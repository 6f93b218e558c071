"""What a snapshot of the gateway's offer says to users and operators (which command lacks what,
in words; what `modelbridge check` prints), and when the watch probes again and what it keeps."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from bot.upstream import Capabilities, CapabilityWatch, ModelInfo, UpstreamClient
from bot.upstream.routes import Family
from tests.upstream.scripted import ScriptedServer, json_reply

PROBE = "POST /mj/task/list-by-condition"
MODELS = "GET /v1/models"
FULL = Capabilities(chat_models=("gpt-4o", "llama3"), image_models=("dall-e-3",),
                    speech_models=("tts-1",), transcription_models=("whisper-1",),
                    embedding_models=("bge-m3",), midjourney=True)  # fmt: skip
NOTHING = Capabilities(chat_models=(), image_models=(), speech_models=(),
                       transcription_models=(), embedding_models=(), midjourney=False)  # fmt: skip


def test_midjourney_billing_entries_are_skipped_wherever_they_are_listed() -> None:
    listed = [ModelInfo(id="mj_imagine"), ModelInfo(id="gpt-4o"),
              ModelInfo(id="upscale", owned_by="midjourney"), ModelInfo(id="dall-e-3")]  # fmt: skip
    caps = Capabilities.from_models(listed, midjourney=True)
    assert caps.chat_models == ("gpt-4o",) and caps.image_models == ("dall-e-3",)


def test_a_listed_model_of_any_kind_is_known_and_kept_as_the_users_choice() -> None:
    assert FULL.lists("whisper-1") and FULL.lists("bge-m3") and not FULL.lists("gpt-5")
    assert FULL.fallback_chat_model("llama3") == "llama3"  # listed, though not first
    assert FULL.fallback_chat_model("gpt-5") == "gpt-4o"


@pytest.mark.parametrize(
    ("command", "engine", "reason"),
    [
        ("ask", None, "This gateway has no chat model."),
        ("model", None, "This gateway has no chat model."),
        ("imagine", None, "This gateway has no Midjourney."),
        ("imagine", "dalle", "This gateway has no image model."),
        ("describe", None, "This gateway has no Midjourney."),
        ("blend", None, "This gateway has no Midjourney."),
        ("speak", None, "This gateway has no speech model."),
        ("transcribe", None, "This gateway has no transcription model."),
        ("help", None, None),
    ],
)
def test_a_command_the_gateway_cannot_serve_says_what_is_missing(
    command: str, engine: str | None, reason: str | None
) -> None:
    assert NOTHING.missing_reason(command, engine) == reason
    assert FULL.missing_reason(command, engine) is None
    assert NOTHING.offers(command) is (reason is None)


@pytest.mark.parametrize(
    ("family", "field"),
    [
        (Family.CHAT, "chat_models"),
        (Family.IMAGE, "image_models"),
        (Family.SPEECH, "speech_models"),
        (Family.TRANSCRIPTION, "transcription_models"),
        (Family.EMBEDDING, "embedding_models"),
    ],
)
def test_a_404_takes_away_its_own_family_and_nothing_else(family: Family, field: str) -> None:
    without = FULL.without(family)
    assert getattr(without, field) == ()
    others = [name for name in ("chat_models", "image_models", "speech_models",
                                "transcription_models", "embedding_models") if name != field]
    assert all(getattr(without, name) == getattr(FULL, name) for name in others)
    assert without.midjourney is True


def test_a_404_on_files_or_the_model_list_takes_nothing_away() -> None:
    assert FULL.without(Family.FILES) == FULL
    assert FULL.without(Family.MODELS) == FULL
    assert FULL.without(Family.MIDJOURNEY_EXTRAS) == FULL


def test_check_prints_each_feature_known_unknown_or_none() -> None:
    assert FULL.summary() == [
        "chat models: gpt-4o, llama3", "image models: dall-e-3", "speech models: tts-1",
        "transcription models: whisper-1", "embedding models: bge-m3", "Midjourney: yes",
    ]
    assert NOTHING.summary()[0] == "chat models: none"
    assert NOTHING.summary()[-1] == "Midjourney: no"
    unknown = Capabilities(problems=("/v1/models: ServerError: down",))
    assert unknown.summary() == [
        "chat models: unknown (no model list)", "image models: unknown (no model list)",
        "speech models: unknown (no model list)",
        "transcription models: unknown (no model list)",
        "embedding models: unknown (no model list)", "Midjourney: unknown",
        "problem: /v1/models: ServerError: down",
    ]


async def test_callers_arriving_together_share_one_probe(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(MODELS, json_reply({"data": [{"id": "gpt-4o"}]}))
    scripted.on(PROBE, json_reply([]))
    watch = CapabilityWatch(scripted_client, max_age_s=600, clock=lambda: 5000.0)
    got = await asyncio.gather(*(watch.get() for _ in range(3)))
    assert got[0] is got[1] is got[2]
    assert scripted.hits[MODELS] == 1 and scripted.hits[PROBE] == 1


async def test_a_snapshot_exactly_max_age_old_is_probed_again(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(MODELS, json_reply({"data": [{"id": "gpt-4o"}]}))
    scripted.on(PROBE, json_reply([]))
    now = [1000.0]
    watch = CapabilityWatch(scripted_client, max_age_s=600, clock=lambda: now[0])
    await watch.get()
    now[0] = 1599.0
    await watch.get()
    assert scripted.hits[MODELS] == 1
    now[0] = 1600.0
    await watch.get()
    assert scripted.hits[MODELS] == 2


async def test_a_failed_probe_keeps_what_was_known_and_names_the_error(
    scripted: ScriptedServer, scripted_client: UpstreamClient, caplog: pytest.LogCaptureFixture
) -> None:
    refused = json_reply({"error": {"message": "invalid token"}}, 401)
    scripted.on(MODELS, json_reply({"data": [{"id": "gpt-4o"}]}), refused)
    scripted.on(PROBE, json_reply([]), refused)
    watch = CapabilityWatch(scripted_client)
    with caplog.at_level(logging.INFO, logger="bot.upstream.capabilities"):
        first = await watch.refresh()
    assert [r.getMessage() for r in caplog.records] == [
        "gateway capabilities: " + "; ".join(first.summary())
    ]
    again = await watch.refresh()
    assert again.midjourney is True  # Midjourney answered before: still believed there
    assert again.chat_models is None  # the model list could not be read: unknown, not none
    assert len(again.problems) == 2
    assert again.problems[0].startswith("Midjourney probe: AuthenticationError: ")
    assert again.problems[1].startswith("/v1/models: AuthenticationError: ")


async def test_a_404_proven_absence_ends_exactly_max_age_after_it(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(MODELS, json_reply({"data": [{"id": "gpt-4o"}, {"id": "tts-1"}]}))
    scripted.on(PROBE, json_reply([]))
    now = [0.0]
    watch = CapabilityWatch(scripted_client, max_age_s=600, clock=lambda: now[0])
    await watch.refresh()
    watch.note_not_offered(Family.SPEECH)
    now[0] = 599.0
    assert (await watch.refresh()).speech_models == ()
    now[0] = 600.0
    assert (await watch.refresh()).speech_models == ("tts-1",)  # asked again: tts-1 is back


class _CrashingGateway:
    """A gateway whose model list fails in a way no HTTP answer produces (a bug of ours)."""

    def __init__(self) -> None:
        self.calls = 0
        self.third_call = asyncio.Event()

    async def list_models(self) -> list[ModelInfo]:
        self.calls += 1
        if self.calls == 3:
            self.third_call.set()
        raise RuntimeError("bug")

    async def probe_midjourney(self) -> bool:
        return True


async def test_a_probe_that_crashes_is_logged_and_probing_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = _CrashingGateway()
    watch = CapabilityWatch(gateway, max_age_s=0.01)
    with caplog.at_level(logging.ERROR, logger="bot.upstream.capabilities"):
        task = asyncio.create_task(watch.keep_fresh())
        try:
            await asyncio.wait_for(gateway.third_call.wait(), 5)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert "gateway capabilities probe failed" in [r.getMessage() for r in caplog.records]
