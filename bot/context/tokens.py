"""Offline token counts with the bpe-openai tokenizers (cl100k / o200k), and a cheap fallback.

Why the Rust extension is loaded on its own: `import bpe_openai` decodes every bundled
vocabulary into Python dicts at import time (about 1.3 s and 70 MB), although counting only
needs the compiled tokenizer (`_bindings.tokenizer_for_encoding(...).count`, ~66 MB for o200k,
loaded once per encoding on first use). When that shortcut fails we fall back to the public
`bpe_openai.get_encoding`, and if that fails too, to a bytes/4 estimate: budgets stay usable.
"""

from __future__ import annotations

import asyncio
import importlib.machinery
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

O200K = "o200k_base"
CL100K = "cl100k_base"
# Every chat message costs a few tokens of framing on top of its text (OpenAI's own accounting),
# and the reply is primed with three more.
MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3
# An image part at high detail for a ~1024 px picture (4 tiles x 170 + 85).
IMAGE_TOKENS = 765

_CL100K_PREFIXES = ("gpt-4-", "gpt-3.5", "gpt-35", "text-embedding")
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3", "o4")

Counter = Callable[[str], int]
_counters: dict[str, Counter] = {}
_lock = threading.Lock()


def encoding_name(model: str) -> str:
    """The vocabulary a model uses; anything we do not know counts with o200k_base."""
    name = model.lower()
    if name.startswith(_O200K_PREFIXES):
        return O200K
    if name == "gpt-4" or name.startswith(_CL100K_PREFIXES):
        return CL100K
    return O200K


def rough_count(text: str) -> int:
    """About four bytes of UTF-8 per token: the estimate used when no tokenizer loads."""
    return (len(text.encode("utf-8", "replace")) + 3) // 4


def _load_bindings() -> ModuleType:
    loaded = sys.modules.get("bpe_openai._bindings")
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("bpe_openai is not installed")
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"_bindings{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader("bpe_openai._bindings", str(path))
                ext_spec = importlib.util.spec_from_file_location(
                    "bpe_openai._bindings", path, loader=loader
                )
                if ext_spec is None:
                    continue
                module = importlib.util.module_from_spec(ext_spec)
                loader.exec_module(module)
                return module
    raise ImportError("bpe_openai._bindings not found")


def _make_counter(encoding: str) -> Counter:
    try:
        tokenizer = _load_bindings().tokenizer_for_encoding(encoding)
        count: Counter = tokenizer.count
        count("warm up")
        return count
    except Exception as exc:
        log.info("bpe-openai fast path unavailable (%s); using its Python API", exc)
    try:
        import bpe_openai

        enc = bpe_openai.get_encoding(encoding)
        return lambda text: len(enc.encode_ordinary(text))
    except Exception:
        log.warning("no tokenizer for %s; token counts are estimates", encoding, exc_info=True)
        return rough_count


def counter_for(model: str) -> Counter:
    """The token counter of `model`'s vocabulary (loaded on first use, then cached)."""
    encoding = encoding_name(model)
    counter = _counters.get(encoding)
    if counter is None:
        with _lock:
            counter = _counters.get(encoding)
            if counter is None:
                counter = _make_counter(encoding)
                _counters[encoding] = counter
    return counter


async def load_for(model: str) -> None:
    """Load `model`'s tokenizer off the event loop (the first load takes ~0.1 s)."""
    if encoding_name(model) not in _counters:
        await asyncio.to_thread(counter_for, model)


def count_text(text: str, model: str = "") -> int:
    """Tokens of plain text in `model`'s vocabulary; never raises."""
    if not text:
        return 0
    try:
        return counter_for(model)(text)
    except Exception:
        return rough_count(text)


def message_tokens(text: str, model: str = "", images: int = 0) -> int:
    """What one chat message costs in a prompt: its text, framing, and any image parts."""
    return count_text(text, model) + MESSAGE_OVERHEAD + images * IMAGE_TOKENS
