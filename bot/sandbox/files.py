"""Generated and uploaded files the sandbox serves at /sandbox/files/<name> (a stand-in CDN)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

FILES_PATH = "/sandbox/files"

_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,(?P<data>.*)$", re.S
)


@dataclass(frozen=True, slots=True)
class DataUrl:
    """A decoded `data:<mime>;base64,...` upload."""

    mime: str
    data: bytes


def parse_data_url(value: object) -> DataUrl | None:
    """The decoded upload, or None when `value` is not a non-empty base64 data URL."""
    if not isinstance(value, str):
        return None
    match = _DATA_URL.match(value.strip())
    if match is None:
        return None
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        return None
    if not data:
        return None
    return DataUrl(match["mime"] or "application/octet-stream", data)


@dataclass(slots=True)
class _Entry:
    content_type: str
    data: bytes | None = None
    render: Callable[[], bytes] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FileStore:
    """Files by name; generated images are rendered lazily (in a thread) on first download."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def put(self, data: bytes, content_type: str, suffix: str) -> str:
        """Store bytes; returns the file name to put after /sandbox/files/."""
        name = f"{uuid.uuid4().hex}{suffix}"
        self._entries[name] = _Entry(content_type, data=data)
        return name

    def put_lazy(self, render: Callable[[], bytes], content_type: str, suffix: str) -> str:
        """Store a renderer that runs once, when the file is first fetched."""
        name = f"{uuid.uuid4().hex}{suffix}"
        self._entries[name] = _Entry(content_type, render=render)
        return name

    async def get(self, name: str) -> tuple[bytes, str] | None:
        """The bytes and content type of `name`, rendering them if needed."""
        entry = self._entries.get(name)
        if entry is None:
            return None
        async with entry.lock:
            if entry.data is None and entry.render is not None:
                entry.data = await asyncio.to_thread(entry.render)
                entry.render = None
        return (entry.data or b""), entry.content_type

    async def handle(self, request: web.Request) -> web.Response:
        """GET /sandbox/files/{name}: no auth, like a CDN link."""
        found = await self.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type)
