"""The frames the sandbox's drawing worker and its parent exchange over the worker's pipes.

Apart from the worker (`python -m bot.sandbox.drawing_worker`), so that importing the sandbox
package never imports the module the worker runs as `__main__`.
"""

from __future__ import annotations

import struct
from typing import IO

# A frame: call id, payload length, then the pickled payload.
HEADER = struct.Struct("!QI")


def read_frame(stream: IO[bytes]) -> tuple[int, bytes] | None:
    """The next (id, payload) from `stream`; None at its end (also mid-frame)."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    call_id, length = HEADER.unpack(header)
    payload = stream.read(length)
    return (call_id, payload) if len(payload) == length else None


def frame(call_id: int, payload: bytes) -> bytes:
    """One frame's bytes."""
    return HEADER.pack(call_id, len(payload)) + payload
