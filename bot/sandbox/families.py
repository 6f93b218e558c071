"""Route families the sandbox can leave out, to play a gateway that offers only part of the API.

Many operators point the bot at a gateway with only some of the contract: a LiteLLM or vLLM
proxy with chat models alone, a one-api without a Midjourney channel. A sandbox serving only
some families answers the routes of the others as such a foreign server does: HTTP 404, either
the JSON body of a FastAPI/Starlette app (LiteLLM, vLLM: `{"detail": "Not Found"}`) or the HTML
page of an nginx in front of it. `/v1/models` lists only the models of the families served.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

FAMILIES = ("chat", "images", "audio", "embeddings", "mj")
ALL_FAMILIES = frozenset(FAMILIES)

Absent = Literal["json", "html"]
ABSENT_STYLES: tuple[Absent, ...] = ("json", "html")

NGINX_NOT_FOUND_HTML = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

_PATH_FAMILIES = (
    ("/v1/chat/", "chat"),
    ("/v1/completions", "chat"),
    ("/v1/images/", "images"),
    ("/v1/audio/", "audio"),
    ("/v1/embeddings", "embeddings"),
    ("/mj", "mj"),
)
_IMAGE_MODELS = frozenset({"dall-e-2", "dall-e-3"})
_AUDIO_MODELS = frozenset({"whisper-1", "tts-1", "tts-1-hd"})


def parse_families(text: str) -> frozenset[str]:
    """`chat,images,mj` as a set of families; ValueError naming any unknown one."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = sorted(names - ALL_FAMILIES)
    if unknown:
        raise ValueError(f"unknown families {', '.join(unknown)} (known: {', '.join(FAMILIES)})")
    if not names:
        raise ValueError(f"name at least one family of {', '.join(FAMILIES)}")
    return frozenset(names)


def family_of_path(path: str) -> str | None:
    """The family a route belongs to; None for routes every server has (models, files)."""
    for prefix, family in _PATH_FAMILIES:
        if path.startswith(prefix):
            return family
    return None


def family_of_model(model: str, owner: str) -> str:
    """The family that serves a model listed by the gateway."""
    if owner == "midjourney":
        return "mj"
    if model in _IMAGE_MODELS:
        return "images"
    if model in _AUDIO_MODELS:
        return "audio"
    if model.startswith("text-embedding-"):
        return "embeddings"
    return "chat"


def foreign_not_found(style: Absent) -> web.Response:
    """A foreign server's 404 for a route it does not have."""
    if style == "html":
        return web.Response(status=404, text=NGINX_NOT_FOUND_HTML, content_type="text/html")
    return web.json_response({"detail": "Not Found"}, status=404)
