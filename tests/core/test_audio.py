"""/transcribe and /speak against the sandbox: real Ogg/Opus in, real Ogg/Opus out."""

from __future__ import annotations

import io

import soundfile as sf

from bot.commands.transcribe import MAX_SHOWN_CHARS, shorten, transcript_reply
from bot.inbound import Attachment, CommandRequest
from bot.media import MAX_AUDIO_BYTES
from bot.sandbox.server import SandboxServer
from bot.services import CommandContext
from tests.core.chat_support import last_text, ogg_opus, png
from tests.support.harness import Harness


def voice_note(seconds: float = 2.0) -> Attachment:
    return Attachment(ogg_opus(seconds), "audio/ogg", "voice.oga")


async def test_transcribe_a_voice_note(harness: Harness, sandbox: SandboxServer) -> None:
    await harness.command("transcribe", attachments=(voice_note(2.0),))
    assert last_text(harness) == "📝 Transcript of a 2-second ogg recording."
    assert sandbox.hits["POST /v1/audio/transcriptions"] == 1
    usage = await harness.services.store.usage_summary("test", "alice", 0)
    assert usage["by_command"]["transcribe"]["units"] == 2.0


async def test_translate_option_uses_the_translation_endpoint(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("transcribe", attachments=(voice_note(),),
                          options={"translate": "true"})
    assert last_text(harness) == "📝 Translation of a 2-second ogg recording."
    assert sandbox.hits["POST /v1/audio/translations"] == 1
    assert sandbox.hits["POST /v1/audio/transcriptions"] == 0


async def test_a_voice_note_without_text_is_transcribed(harness: Harness) -> None:
    await harness.message(attachments=(voice_note(1.0),))
    assert last_text(harness) == "📝 Transcript of a 1-second ogg recording."


async def test_a_mislabelled_file_is_judged_by_its_bytes(harness: Harness) -> None:
    await harness.command("transcribe", attachments=(Attachment(png(), "audio/ogg", "x.ogg"),))
    assert last_text(harness).startswith("That file is not audio I can read")


async def test_transcribe_without_audio_asks_for_it(harness: Harness) -> None:
    await harness.command("transcribe")
    assert last_text(harness) == "Please attach a voice message or an audio file to /transcribe."


async def test_too_large_audio_is_refused_before_upload(
    harness: Harness, sandbox: SandboxServer
) -> None:
    big = Attachment(b"OggS" + bytes(MAX_AUDIO_BYTES), "audio/ogg")
    await harness.command("transcribe", attachments=(big,))
    assert last_text(harness) == "That audio is too large (25.0 MB; the limit is 25 MB)."
    assert sandbox.hits["POST /v1/audio/transcriptions"] == 0


async def test_a_long_transcript_also_comes_as_a_file(harness: Harness) -> None:
    # The sandbox's transcripts are one sentence, so the long case is built here.
    text = " ".join(f"word{i}" for i in range(2000))
    request = CommandRequest(harness.actor("alice"), harness.chat("c1"), "transcribe")
    ctx = CommandContext(harness.services, request, harness.channel, "en")
    reply = transcript_reply(ctx, text)
    [shown] = [p for p in reply.parts if hasattr(p, "markdown")]
    [file] = reply.files
    assert file.filename == "transcript.txt" and file.data.decode() == text
    assert len(reply.text) < MAX_SHOWN_CHARS
    assert f"({len(text)} characters)" in reply.text
    assert reply.text.startswith("📝 word0 word1")
    assert shown is not None
    short = transcript_reply(ctx, "short text")
    assert short.files == () and short.text == "📝 short text"


def test_shorten_cuts_at_a_word_boundary() -> None:
    text = "alpha " * 1000
    cut = shorten(text, 100)
    assert len(cut) <= 100 and cut.endswith("alpha…")
    assert shorten("tiny", 100) == "tiny"


async def test_speak_returns_an_ogg_opus_voice_message(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("speak", "Hello from the bot, this is a test.")
    reply = harness.channel.last().reply
    assert reply is not None
    [audio] = reply.audio
    assert (audio.format, audio.filename, audio.voice) == ("opus", "voice.ogg", True)
    assert audio.data.startswith(b"OggS")
    samples, rate = sf.read(io.BytesIO(audio.data))
    assert rate > 0 and len(samples) > rate // 2
    assert audio.duration_s is not None and audio.duration_s > 0.5
    usage = await harness.services.store.usage_summary("test", "alice", 0)
    assert usage["by_command"]["speak"]["units"] == len("Hello from the bot, this is a test.")
    assert sandbox.hits["POST /v1/audio/speech"] == 1


async def test_speak_with_a_chosen_voice(harness: Harness) -> None:
    await harness.command("speak", "hi", options={"voice": "nova"})
    assert len(harness.channel.last().reply.audio) == 1  # type: ignore[union-attr]


async def test_speak_with_an_invalid_voice_lists_the_voices(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("speak", "hi", options={"voice": "darth"})
    assert last_text(harness) == (
        "Unknown voice darth. Choose one of: alloy, echo, fable, onyx, nova, shimmer"
    )
    assert sandbox.hits["POST /v1/audio/speech"] == 0


async def test_speak_refuses_empty_and_too_long_text(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("speak", "  ")
    assert last_text(harness) == "Please add the text to read aloud after /speak."
    await harness.command("speak", "a" * 4097)
    assert last_text(harness) == "That is too long (4097 characters; the limit is 4096)."
    assert sandbox.hits["POST /v1/audio/speech"] == 0


async def test_translate_typed_as_text(harness: Harness, sandbox: SandboxServer) -> None:
    await harness.command("transcribe", "translate", attachments=(voice_note(),))
    assert last_text(harness).startswith("📝 Translation of")
    await harness.command("transcribe", attachments=(voice_note(),),
                          options={"translate": "false"})
    assert last_text(harness).startswith("📝 Transcript of")
