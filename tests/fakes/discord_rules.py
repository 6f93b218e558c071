"""What the fake Discord enforces: message limits, component limits, rate-limit windows, mentions.

Kept apart from the server so each rule reads on its own; the error shapes are Discord's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

MAX_CONTENT = 2000
MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_CUSTOM_ID = 100


def error(code: int, message: str) -> dict[str, Any]:
    """Discord's error body."""
    return {"code": code, "message": message}


def message_problem(payload: dict[str, Any], *, has_files: bool, editing: bool) -> str | None:
    """Why Discord would refuse this message body (50035 / 50006), or None."""
    content = payload.get("content")
    if content is not None and len(content) > MAX_CONTENT:
        return f"content: Must be {MAX_CONTENT} or fewer in length. (got {len(content)})"
    rows = payload.get("components") or []
    if len(rows) > MAX_ROWS:
        return f"components: Must be {MAX_ROWS} or fewer in length."
    for row in rows:
        children = row.get("components") or []
        if len(children) > MAX_PER_ROW:
            return f"components.components: Must be {MAX_PER_ROW} or fewer in length."
        for child in children:
            custom_id = child.get("custom_id")
            if custom_id is not None and not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
                return f"custom_id: Must be between 1 and {MAX_CUSTOM_ID} in length."
    if not editing and not (content or payload.get("embeds") or has_files or rows
                            or payload.get("attachments")):
        return "Cannot send an empty message"
    return None


def modal_problem(data: dict[str, Any]) -> str | None:
    """Why Discord would refuse this modal (custom_id, title, 1-5 components)."""
    custom_id = data.get("custom_id") or ""
    if not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
        return "custom_id: Must be between 1 and 100 in length."
    if len(data.get("title") or "") > 45:
        return "title: Must be 45 or fewer in length."
    if not 1 <= len(data.get("components") or []) <= 5:
        return "components: Must be between 1 and 5 in length."
    return None


def mentions_pinged(content: str, allowed: dict[str, Any] | None) -> tuple[bool, list[str]]:
    """(@everyone pinged, user ids pinged) as Discord would resolve them for this content.

    With no `allowed_mentions`, Discord parses everything in the content.
    """
    import re

    everyone = "@everyone" in content or "@here" in content
    users = re.findall(r"<@!?(\d+)>", content)
    if allowed is None:
        return everyone, users
    parse = allowed.get("parse") or []
    allowed_users = [str(u) for u in allowed.get("users") or []]
    pinged_users = [u for u in users if "users" in parse or u in allowed_users]
    return everyone and "everyone" in parse, pinged_users


@dataclass
class Window:
    """A fixed rate-limit window: `limit` requests per `period` seconds from its first request."""

    limit: int
    period: float
    started: float = 0.0
    used: int = 0

    def take(self, now: float) -> float:
        """0 if a request may go now (and count it), else seconds until the window resets."""
        if now >= self.started + self.period:
            self.started, self.used = now, 0
        if self.used >= self.limit:
            return self.started + self.period - now
        self.used += 1
        return 0.0

    def headers(self, now: float, bucket: str) -> dict[str, str]:
        reset_after = max(0.0, self.started + self.period - now)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }


@dataclass
class RateLimits:
    """Per-route windows keyed by the route's major parameter, plus one global window."""

    route_limit: tuple[int, float] | None = None
    global_per_second: int | None = None
    windows: dict[str, Window] = field(default_factory=dict)
    global_window: Window | None = None
    route_429s: int = 0
    global_429s: int = 0

    def check(self, key: str | None, now: float, *, global_bound: bool
              ) -> tuple[float, bool, dict[str, str]]:
        """(retry_after or 0, is_global, headers) for one request."""
        if global_bound and self.global_per_second:
            if self.global_window is None:
                self.global_window = Window(self.global_per_second, 1.0)
            wait = self.global_window.take(now)
            if wait > 0:
                self.global_429s += 1
                return wait, True, {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
        if key is None or self.route_limit is None:
            return 0.0, False, {}
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = Window(*self.route_limit)
        wait = window.take(now)
        headers = window.headers(now, key)
        if wait > 0:
            self.route_429s += 1
            headers["X-RateLimit-Scope"] = "user"
        return wait, False, headers
