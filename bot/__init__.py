"""modelbridge: an AI gateway (OpenAI-compatible + Midjourney-proxy) in Discord and Telegram."""

__version__ = "0.1.0"
