"""The console's line parser: what a typed line turns into."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.console.inbound import (
    MAX_ATTACHMENT_BYTES,
    BadLine,
    CommandLine,
    EmptyLine,
    MessageLine,
    PressLine,
    QuitLine,
    parse_line,
)
from bot.inbound import CommandInfo, ParamInfo


def _table() -> list[CommandInfo]:
    return [
        CommandInfo(
            "imagine",
            "draw",
            (
                ParamInfo("prompt", "text", "what to draw", required=True),
                ParamInfo("niji", "flag", "anime style"),
                ParamInfo("image", "image", "reference"),
            ),
            aliases=("mj",),
        ),
        CommandInfo(
            "blend",
            "mix",
            (
                ParamInfo("images", "image", "pictures", count=5),
                ParamInfo(
                    "dimensions", "choice", "shape", choices=("PORTRAIT", "SQUARE", "LANDSCAPE")
                ),
            ),
        ),
        CommandInfo("ask", "chat", (ParamInfo("question", "text", "q"),)),
    ]


def parse(line: str, cwd: Path) -> object:
    return parse_line(line, _table(), cwd=cwd)


def test_midjourney_parameters_pass_through_the_prompt_untouched(tmp_path: Path) -> None:
    parsed = parse("/imagine niji:yes a cat --ar 16:9 --v 6.1", tmp_path)
    assert parsed == CommandLine("imagine", "a cat --ar 16:9 --v 6.1", (), {"niji": "true"})


def test_options_are_taken_only_for_params_of_that_command(tmp_path: Path) -> None:
    # `dimensions` belongs to /blend, not /imagine, so it stays in the prompt.
    assert parse("/imagine dimensions:portrait style:raw", tmp_path) == CommandLine(
        "imagine", "dimensions:portrait style:raw"
    )
    assert parse("/mj a cat niji:no", tmp_path) == CommandLine("mj", "a cat", (), {"niji": "false"})


def test_choice_values_match_case_insensitively_and_bad_ones_are_explained(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nA")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nB")
    parsed = parse("/blend dimensions:portrait @a.png @b.png", tmp_path)
    assert isinstance(parsed, CommandLine)
    assert parsed.options == {"dimensions": "PORTRAIT"}
    assert [a.filename for a in parsed.attachments] == ["a.png", "b.png"]
    assert [a.data for a in parsed.attachments] == [b"\x89PNG\r\n\x1a\nA", b"\x89PNG\r\n\x1a\nB"]
    assert parsed.attachments[0].mime == "image/png"

    bad = parse("/blend dimensions:round @a.png", tmp_path)
    assert isinstance(bad, BadLine)
    assert "round" in bad.message and "PORTRAIT, SQUARE, LANDSCAPE" in bad.message
    assert isinstance(parse("/imagine niji:maybe a cat", tmp_path), BadLine)
    assert isinstance(parse("/imagine niji: a cat", tmp_path), BadLine)


def test_attachments_are_read_with_a_mime_type_from_the_extension(tmp_path: Path) -> None:
    (tmp_path / "voice.ogg").write_bytes(b"OggS....")
    (tmp_path / "my photo.jpg").write_bytes(b"\xff\xd8\xff....")
    parsed = parse('/ask what is this? @"my photo.jpg"', tmp_path)
    assert isinstance(parsed, CommandLine)
    assert parsed.text == "what is this?"
    assert parsed.attachments[0].mime == "image/jpeg"
    assert parsed.attachments[0].filename == "my photo.jpg"

    plain = parse(f"@{tmp_path / 'voice.ogg'}", tmp_path)
    assert isinstance(plain, MessageLine)
    assert plain.text == ""
    assert plain.attachments[0].is_audio


def test_a_missing_file_is_a_clear_message_not_a_crash(tmp_path: Path) -> None:
    parsed = parse("/describe @nope/cat.png", tmp_path)
    assert isinstance(parsed, BadLine)
    assert "nope/cat.png" in parsed.message
    (tmp_path / "pictures").mkdir()
    folder = parse("/describe @pictures/", tmp_path)
    assert isinstance(folder, BadLine)
    assert "pictures/" in folder.message


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    with (tmp_path / "huge.wav").open("wb") as handle:
        handle.truncate(MAX_ATTACHMENT_BYTES + 1)  # sparse: no real disk space used
    parsed = parse("/transcribe @huge.wav", tmp_path)
    assert isinstance(parsed, BadLine)
    assert "huge.wav is too big" in parsed.message


def test_an_at_word_that_is_no_file_stays_text(tmp_path: Path) -> None:
    assert parse("/ask who is @alice", tmp_path) == CommandLine("ask", "who is @alice")
    assert parse("ping @bob", tmp_path) == MessageLine("ping @bob")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("3", PressLine(3)),
        ("  12  ", PressLine(12)),
        ("/press 4", PressLine(4)),
        ("/quit", QuitLine()),
        ("/EXIT", QuitLine()),
        ("", EmptyLine()),
        ("   ", EmptyLine()),
        ("hello there", MessageLine("hello there")),
        ("/", MessageLine("/")),
        ("/unknown stuff here", CommandLine("unknown", "stuff here")),
        ("/Imagine a cat", CommandLine("imagine", "a cat")),
    ],
)
def test_line_kinds(tmp_path: Path, line: str, expected: object) -> None:
    assert parse(line, tmp_path) == expected


def test_bad_press_and_stray_cancel_are_explained(tmp_path: Path) -> None:
    assert isinstance(parse("/press", tmp_path), BadLine)
    assert isinstance(parse("/press x", tmp_path), BadLine)
    assert isinstance(parse("/cancel", tmp_path), BadLine)
