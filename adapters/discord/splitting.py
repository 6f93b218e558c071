"""Split long text into Discord messages (2000 characters) at line boundaries outside code blocks.

The split is greedy and prefix-stable: once the text is past the limit, the first piece depends
only on the text before the limit, so a streamed answer can freeze its first message and move on.
"""

from __future__ import annotations

LIMIT = 2000
FENCE = "```"


def split_message(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most `limit` characters; a code block cut in two is closed and reopened."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        piece, rest = _cut(rest, limit)
        pieces.append(piece)
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The longest good first piece of `text` (longer than `limit`) and what follows it."""
    # Room for a closing fence, in case the cut falls inside a code block.
    window = text[: limit - len(FENCE) - 1]
    best_outside = -1
    best_inside = -1
    open_fence: str | None = None
    fence_at_best_inside: str | None = None
    position = 0
    for line in window.splitlines(keepends=True):
        end = position + len(line)
        if not line.endswith("\n"):
            break
        stripped = line.strip()
        if stripped.startswith(FENCE):
            open_fence = None if open_fence is not None else stripped
        if open_fence is None:
            best_outside = end
        else:
            best_inside, fence_at_best_inside = end, open_fence
        position = end
    if best_outside > 0 and (best_outside >= best_inside or best_outside > limit // 2):
        return text[:best_outside].rstrip("\n"), text[best_outside:]
    if best_inside > 0 and fence_at_best_inside is not None:
        # Close the block here and reopen it (same language tag) in the next piece.
        return text[:best_inside] + FENCE, fence_at_best_inside + "\n" + text[best_inside:]
    # One line longer than the limit: cut at the last space, else hard.
    space = window.rfind(" ")
    cut = space if space > limit // 2 else len(window)
    return text[:cut], text[cut:].lstrip(" ")
