"""The model's markdown as Telegram text + entities, split into messages under Telegram's limits.

`telegramify-markdown` does the conversion (no MarkdownV2/HTML escaping to get wrong). Splitting
is ours because its splitter cuts code blocks anywhere: we cut at a paragraph break, else a line
break, outside code; only a code block longer than a whole message is cut inside, at a line,
each piece staying a code block.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import MessageEntity
from telegramify_markdown import MessageEntity as MdEntity
from telegramify_markdown import RenderConfig, convert

MAX_TEXT = 4096
MAX_CAPTION = 1024
# Telegram shows the first 100 entities of a message and ignores the rest.
MAX_ENTITIES = 100
_CODE = frozenset({"pre", "code"})

_config = RenderConfig.isolated()
_config.markdown_symbol.unordered_list_item = "•"
for _level in range(1, 7):
    setattr(_config.markdown_symbol, f"heading_level_{_level}", "")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One message's worth of text and its entities (offsets in UTF-16 units)."""

    text: str
    entities: tuple[MessageEntity, ...] = ()

    def plain(self) -> Chunk:
        """The same words without formatting: the fallback when Telegram rejects entities."""
        return Chunk(self.text)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def render(markdown: str, limit: int = MAX_TEXT) -> list[Chunk]:
    """Markdown -> chunks of at most `limit` UTF-16 units; never empty (at least one chunk)."""
    try:
        text, entities = convert(markdown, config=_config)
    except Exception:  # a converter bug must not cost the user the answer
        text, entities = markdown, []
    text = text.rstrip()
    if not text.strip():
        return [Chunk(markdown.strip() or "…")]
    return [_chunk(t, e) for t, e in split(text, entities, limit)]


def _chunk(text: str, entities: list[MdEntity]) -> Chunk:
    size = utf16_len(text)
    kept = [e for e in entities if e.length > 0 and e.offset + e.length <= size]
    return Chunk(
        text,
        tuple(
            MessageEntity(
                type=e.type, offset=e.offset, length=e.length, url=e.url, language=e.language
            )
            for e in kept[:MAX_ENTITIES]
        ),
    )


def split(text: str, entities: list[MdEntity], limit: int) -> list[tuple[str, list[MdEntity]]]:
    """Cut (text, entities) into pieces of at most `limit` UTF-16 units at the best boundaries."""
    units = _unit_offsets(text)
    if units[-1] <= limit:
        return [(text, entities)]
    code = [(e.offset, e.offset + e.length) for e in entities if e.type in _CODE]
    pieces: list[tuple[str, list[MdEntity]]] = []
    start = 0
    while start < len(text):
        budget = units[start] + limit
        fits = units[-1] <= budget
        end = len(text) if fits else _best_cut(text, units, start, budget, code)
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip("\n"))
        body_start, body_end = start + lead, start + len(piece.rstrip())
        if body_end > body_start:
            pieces.append(
                (text[body_start:body_end], _clip(entities, units[body_start], units[body_end]))
            )
        start = end
    return pieces


def _best_cut(
    text: str, units: list[int], start: int, budget: int, code: list[tuple[int, int]]
) -> int:
    """The end of the next piece: a paragraph break, a line break, a space, else a hard cut."""
    end = start
    while end < len(text) and units[end + 1] <= budget:
        end += 1
    window = text[start:end]

    def outside_code(index: int) -> bool:
        at = units[index]
        return not any(a < at < b for a, b in code)

    for marker in ("\n\n", "\n"):
        pos = window.rfind(marker)
        while pos > 0:
            cut = start + pos + len(marker)
            if outside_code(cut):
                return cut
            pos = window.rfind(marker, 0, pos)
    pos = window.rfind("\n")  # a code block longer than a message: cut it at a line
    if pos > 0:
        return start + pos + 1
    pos = window.rfind(" ")
    if pos > 0:
        return start + pos + 1
    return max(end, start + 1)


def _clip(entities: list[MdEntity], lo: int, hi: int) -> list[MdEntity]:
    out = []
    for e in entities:
        a, b = max(e.offset, lo), min(e.offset + e.length, hi)
        if b > a:
            out.append(e.copy_with(offset=a - lo, length=b - a))
    return out


def _unit_offsets(text: str) -> list[int]:
    """UTF-16 offset of each character index, plus the total at the end."""
    out = [0] * (len(text) + 1)
    total = 0
    for i, ch in enumerate(text):
        out[i] = total
        total += 2 if ord(ch) > 0xFFFF else 1
    out[len(text)] = total
    return out


def caption_and_rest(markdown: str) -> tuple[Chunk | None, list[Chunk]]:
    """A caption for a photo when the text fits in one, else no caption and the text as messages."""
    if not markdown.strip():
        return None, []
    chunks = render(markdown, MAX_CAPTION)
    if len(chunks) == 1:
        return chunks[0], []
    return None, render(markdown)
