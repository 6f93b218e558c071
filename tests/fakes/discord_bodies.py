"""Request bodies as the fake Discord reads them: JSON or multipart, and the files they carry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes import discord_payloads as p


@dataclass
class FilePart:
    """One uploaded file as the fake received it."""

    field: str
    filename: str
    content_type: str
    data: bytes


def attachments_of(body: dict[str, Any], files: list[FilePart], channel_id: str
                 ) -> list[dict[str, Any]]:
    described = {str(a.get("id")): a for a in body.get("attachments") or []}
    out = []
    for index, part in enumerate(files):
        meta = described.get(str(index), {})
        out.append({**meta, "id": p.snowflake(), "filename": part.filename,
                    "size": len(part.data), "content_type": part.content_type,
                    "url": f"http://cdn.invalid/{channel_id}/{part.filename}",
                    "proxy_url": f"http://cdn.invalid/{channel_id}/{part.filename}"})
    return out


async def read_body(request: web.Request) -> tuple[Any, list[FilePart]]:
    if request.content_type == "application/json":
        return await request.json(), []
    if not request.content_type.startswith("multipart/"):
        return None, []
    payload: Any = None
    files: list[FilePart] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, aiohttp.BodyPartReader):
            continue
        data = await part.read()
        if part.name == "payload_json":
            payload = json.loads(data)
        else:
            files.append(FilePart(part.name or "", part.filename or "",
                                  part.headers.get("Content-Type", ""), bytes(data)))
    return payload, files
