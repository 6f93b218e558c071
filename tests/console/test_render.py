"""The console renderer: what a user sees printed, and the files they find in the output folder."""

from __future__ import annotations

import io
import re
from pathlib import Path

from adapters.console.buttons import ButtonBoard
from adapters.console.render import Renderer
from bot.channel import ChatRef, MessageRef
from bot.replies import Audio, Button, File, Image, Progress, Reply, Text, text_reply

CHAT = ChatRef("console", "local", is_private=True)


def ref(n: int) -> MessageRef:
    return MessageRef(CHAT, str(n))


def make(tmp_path: Path, *, redraw: bool = False) -> tuple[Renderer, io.StringIO, ButtonBoard]:
    out = io.StringIO()
    board = ButtonBoard()
    return Renderer(out, tmp_path / "out", board, redraw=redraw), out, board


def printed_paths(text: str, label: str) -> list[Path]:
    return [Path(p) for p in re.findall(rf"^{re.escape(label)} (\S+)", text, re.MULTILINE)]


async def test_a_streamed_answer_prints_only_what_is_new(tmp_path: Path) -> None:
    renderer, out, _ = make(tmp_path)
    for text in ("Thinking…", "Echo: he", "Echo: hello", "Echo: hello, world"):
        await renderer.show(ref(1), text_reply(text))
    renderer.finish()
    # The placeholder is replaced by a new version once; the answer itself streams on one line.
    assert out.getvalue() == "Thinking…\nEcho: hello, world\n"


async def test_on_a_terminal_the_answer_replaces_its_placeholder_in_place(tmp_path: Path) -> None:
    renderer, out, _ = make(tmp_path, redraw=True)
    for text in ("Thinking…", "Echo: he", "Echo: hello"):
        await renderer.show(ref(1), text_reply(text))
    renderer.finish()
    assert out.getvalue() == "Thinking…\rEcho: he\x1b[Kllo\n"


async def test_an_answer_interrupted_by_other_output_continues_on_a_marked_line(
    tmp_path: Path,
) -> None:
    renderer, out, _ = make(tmp_path)
    long = "Let me think about this. " * 10
    await renderer.show(ref(1), text_reply(long))
    await renderer.show(ref(2), text_reply("job queued"))
    await renderer.show(ref(1), text_reply(long + "The answer is 42."))
    # A short text cut off the same way is printed again whole.
    await renderer.show(ref(3), text_reply("Echo:"))
    await renderer.show(ref(2), text_reply("job started"))
    await renderer.show(ref(3), text_reply("Echo: hi"))
    renderer.finish()
    assert out.getvalue() == (
        f"{long}\njob queued\n... The answer is 42.\nEcho:\njob started\nEcho: hi\n"
    )


async def test_an_edit_that_rewrites_the_text_prints_the_new_version(tmp_path: Path) -> None:
    renderer, out, _ = make(tmp_path)
    await renderer.show(ref(1), text_reply("a cat — queued"))
    await renderer.show(ref(1), text_reply("a cat — done"))
    await renderer.show(ref(1), text_reply("a cat — done"))  # an identical edit shows nothing
    renderer.finish()
    assert out.getvalue() == "a cat — queued\na cat — done\n"


async def test_buttons_are_numbered_across_the_whole_session(tmp_path: Path) -> None:
    renderer, out, board = make(tmp_path)
    grid = ((*(Button(f"u{i}", f"U{i}") for i in range(1, 5)), Button("r", "", "🔄")),)
    await renderer.show(ref(1), Reply((Text("grid"),), grid))
    await renderer.show(ref(2), Reply((Text("upscaled"),), ((Button("v", "Vary"),),)))
    # Re-showing the first message with the same buttons neither reprints nor renumbers them.
    await renderer.show(ref(1), Reply((Text("grid (done)"),), grid))
    renderer.finish()
    assert out.getvalue() == (
        "grid\n[1] U1  [2] U2  [3] U3  [4] U4  [5] 🔄\nupscaled\n[6] Vary\ngrid (done)\n"
    )
    first, sixth = board.get(1), board.get(6)
    assert first is not None and first.button.token == "u1" and first.message == ref(1)
    assert sixth is not None and sixth.button.token == "v" and sixth.message == ref(2)
    assert board.get(7) is None


async def test_images_audio_and_files_are_saved_and_their_paths_printed(tmp_path: Path) -> None:
    renderer, out, _ = make(tmp_path)
    png = b"\x89PNG\r\n\x1a\n" + b"grid"
    reply = Reply(
        (
            Text("here"),
            Image(png, filename="grid.png"),
            Audio(b"OggS" + b"voice", filename="speech.ogg", duration_s=1.25),
            File(b"long transcript", "transcript.txt"),
        )
    )
    await renderer.show(ref(1), reply)
    await renderer.show(ref(1), reply)  # an edit with the same media saves nothing again
    await renderer.show(ref(2), Reply((Image(png + b"2", filename="grid.png"),)))
    renderer.finish()
    text = out.getvalue()
    images = printed_paths(text, "[image]")
    audio = printed_paths(text, "[audio]")
    files = printed_paths(text, "[file]")
    assert len(images) == 2 and len(audio) == 1 and len(files) == 1
    assert images[0] != images[1]  # same file name asked for twice: two different files
    assert images[0].read_bytes() == png and images[1].read_bytes() == png + b"2"
    assert images[0].suffix == ".png" and images[0].parent == tmp_path / "out"
    assert audio[0].suffix == ".ogg" and audio[0].read_bytes() == b"OggSvoice"
    assert "(1.2 s)" in text or "(1.3 s)" in text
    assert files[0].read_text() == "long transcript"


async def test_a_second_session_never_overwrites_earlier_files(tmp_path: Path) -> None:
    paths: list[Path] = []
    for data in (b"\x89PNG\r\n\x1a\nfirst", b"\x89PNG\r\n\x1a\nsecond"):
        renderer, out, _ = make(tmp_path)
        await renderer.show(ref(1), Reply((Image(data),)))
        paths += printed_paths(out.getvalue(), "[image]")
    assert paths[0] != paths[1]
    assert paths[0].read_bytes().endswith(b"first")
    assert paths[1].read_bytes().endswith(b"second")


async def test_progress_prints_a_bar_per_change_and_a_preview_when_it_moved_on(
    tmp_path: Path,
) -> None:
    renderer, out, _ = make(tmp_path)
    preview = Image(b"\x89PNG\r\n\x1a\npreview-a", filename="preview.png")
    states = [
        Progress("a cat", 0),
        Progress("a cat", 0),
        Progress("a cat", 10, preview),
        Progress("a cat", 20, Image(b"\x89PNG\r\n\x1a\npreview-b")),
        Progress("a cat", 46, Image(b"\x89PNG\r\n\x1a\npreview-c")),
    ]
    for state in states:
        await renderer.show_progress(ref(1), state)
    renderer.finish()
    text = out.getvalue()
    bars = [line for line in text.splitlines() if not line.startswith("[preview]")]
    # A repeated state is not printed again.
    assert bars == [
        "[..........] 0% a cat",
        "[#.........] 10% a cat",
        "[##........] 20% a cat",
        "[#####.....] 46% a cat",
    ]
    previews = printed_paths(text, "[preview]")
    # 10% gives the first preview; 20% is too close to it; 46% is far enough for another.
    assert [p.read_bytes()[-9:] for p in previews] == [b"preview-a", b"preview-c"]


async def test_on_a_terminal_progress_redraws_its_line(tmp_path: Path) -> None:
    renderer, out, _ = make(tmp_path, redraw=True)
    await renderer.show_progress(ref(1), Progress("a cat", 10))
    await renderer.show_progress(ref(1), Progress("a cat", 50))
    await renderer.show(ref(2), text_reply("other"))
    renderer.finish()
    assert out.getvalue() == "[#.........] 10% a cat\r[#####.....] 50% a cat\x1b[K\nother\n"


async def test_the_final_image_is_shown_even_when_the_last_preview_looked_the_same(
    tmp_path: Path,
) -> None:
    renderer, out, _ = make(tmp_path)
    picture = Image(b"\x89PNG\r\n\x1a\nsame")
    await renderer.show_progress(ref(1), Progress("a cat", 93, picture))
    await renderer.show(ref(1), Reply((Text("a cat — done"), picture)))
    renderer.finish()
    (preview,) = printed_paths(out.getvalue(), "[preview]")
    (final,) = printed_paths(out.getvalue(), "[image]")
    assert final != preview and final.read_bytes() == picture.data
