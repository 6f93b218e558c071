"""How the model's markdown looks in Telegram: formatting as entities, long answers split well."""

from __future__ import annotations

from adapters.telegram.render import MAX_TEXT, caption_and_rest, render, utf16_len


def test_markdown_becomes_entities_with_no_markup_left_in_the_text() -> None:
    (chunk,) = render("Some **bold**, `code` and a [link](https://example.com).")
    assert chunk.text == "Some bold, code and a link."
    kinds = {e.type for e in chunk.entities}
    assert {"bold", "code", "text_link"} <= kinds


def test_text_that_markdownv2_would_reject_comes_through_as_written() -> None:
    (chunk,) = render("1 + 1 = 2. (Really!) a_b-c #tag {x} |y| ~z~ >q")
    assert "1 + 1 = 2. (Really!) a_b-c #tag {x} |y|" in chunk.text


def test_a_long_answer_splits_at_paragraphs_under_the_limit() -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 150 for i in range(30)]
    chunks = render("\n\n".join(paragraphs))
    assert len(chunks) > 1
    assert all(utf16_len(c.text) <= MAX_TEXT for c in chunks)
    assert all(c.text.startswith("Paragraph") for c in chunks), "cut between paragraphs"
    assert " ".join(" ".join(c.text.split()) for c in chunks) == " ".join(
        " ".join(p.split()) for p in paragraphs
    ), "nothing lost or repeated"


def test_emoji_count_double_against_the_limit() -> None:
    chunks = render("😀 " * 3000)
    assert all(utf16_len(c.text) <= MAX_TEXT for c in chunks)
    assert sum(c.text.count("😀") for c in chunks) == 3000


def test_a_code_block_longer_than_a_message_is_cut_at_lines_and_stays_code() -> None:
    code = "\n".join(f"line_{i} = {i}" for i in range(600))
    chunks = render(f"```python\n{code}\n```")
    assert len(chunks) >= 2
    for c in chunks:
        assert c.entities and c.entities[0].type == "pre"
        assert c.text.split("\n")[0].startswith("line_"), "cut at a line start"


def test_a_caption_takes_short_text_and_long_text_goes_below_the_photo() -> None:
    caption, rest = caption_and_rest("✅ a red fox")
    assert caption is not None and caption.text == "✅ a red fox" and rest == []
    caption, rest = caption_and_rest("word " * 400)
    assert caption is None and rest
