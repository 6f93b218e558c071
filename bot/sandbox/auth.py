"""Token auth as new-api does it: Bearer key (sk- optional), `mj-api-secret` as fallback on /mj."""

from __future__ import annotations

import hashlib

from aiohttp import web

# Keys starting with this are refused with 无效的令牌, so clients can exercise that path.
INVALID_KEY_PREFIX = "invalid"


def caller_key(request: web.Request) -> str:
    """The token as the gateway reads it: header value without `Bearer ` and `sk-`."""
    key = request.headers.get("Authorization", "").strip()
    placeholder = ("", "midjourney-proxy", "Bearer midjourney-proxy")
    if request.path.startswith("/mj") and key in placeholder:
        key = request.headers.get("mj-api-secret", "").strip()
    key = key.removeprefix("Bearer ").strip()
    return key.removeprefix("sk-")


def owner_of(key: str) -> str:
    """A stable owner id for a key; the key itself is never stored."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def check(request: web.Request) -> tuple[str | None, str]:
    """(owner, "") for an accepted key, else (None, the 401 message)."""
    key = caller_key(request)
    if not key:
        return None, "未提供令牌"
    if key.startswith(INVALID_KEY_PREFIX):
        return None, "无效的令牌"
    return owner_of(key), ""
