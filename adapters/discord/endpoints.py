"""Where discord.py sends REST requests and opens the gateway (an API proxy, or tests' fake).

discord.py has no per-client setting for either: `Route.BASE` (which it sets itself when the
API version changes) and `DiscordWebSocket.DEFAULT_GATEWAY` are its class-level settings.
"""

from __future__ import annotations

import discord
import yarl

DEFAULT_API_BASE = "https://discord.com/api/v10"


def configure(api_base_url: str | None, gateway_url: str | None) -> None:
    """Point discord.py at the configured endpoints (the defaults when None)."""
    discord.http.Route.BASE = (api_base_url or DEFAULT_API_BASE).rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
