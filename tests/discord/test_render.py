"""How a core reply becomes Discord messages: splitting, uploads, voice."""

from __future__ import annotations

from adapters.discord.render import UPLOAD_LIMIT, outgoing
from adapters.discord.splitting import split_message
from bot.replies import Audio, File, Image, Reply, Text


def test_long_text_splits_at_lines_and_keeps_code_blocks_whole() -> None:
    code = "```python\n" + "".join(f"print({i})\n" for i in range(300)) + "```\n"
    text = "Intro line\n" + code + "After the code.\n"
    pieces = split_message(text)
    assert all(len(p) <= 2000 for p in pieces) and len(pieces) >= 2
    assert all(p.count("```") % 2 == 0 for p in pieces)  # every piece closes what it opens
    assert pieces[1].startswith("```python\n")  # the block goes on in the same language
    joined = "".join(pieces).replace("```" + "```python\n", "")
    assert "print(0)" in joined and "print(299)" in joined and "After the code." in joined


def test_a_line_longer_than_a_message_is_cut_at_a_space() -> None:
    pieces = split_message("word " * 900)
    assert all(len(p) <= 2000 for p in pieces)
    assert " ".join(pieces).split() == ["word"] * 900


def test_growing_text_keeps_its_first_message_once_it_is_full() -> None:
    text = "".join(f"line {i}\n" for i in range(400))
    first = split_message(text[:2100])[0]
    assert split_message(text)[0] == first  # a streamed answer can freeze message one


def test_a_file_over_the_upload_limit_is_left_out_and_said_so() -> None:
    big = File(b"x" * (UPLOAD_LIMIT + 1), "huge.txt")
    out = outgoing(Reply((Text("Here it is"), Image(b"png", filename="a.png"), big)))
    assert [u.filename for u in out.uploads] == ["a.png"]
    assert "huge.txt" in out.pieces[-1] and "upload limit" in out.pieces[-1]


def test_opus_audio_becomes_a_voice_message_and_mp3_an_attachment() -> None:
    out = outgoing(Reply((Audio(b"ogg"), Audio(b"mp3", format="mp3", filename="a.mp3"))))
    assert out.voice is not None and out.voice.data == b"ogg"
    assert [u.filename for u in out.uploads] == ["a.mp3"]
