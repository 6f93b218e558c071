"""The offline sandbox gateway: a real HTTP server speaking the upstream contract (/v1 and /mj)."""

from bot.sandbox.server import SandboxServer

__all__ = ["SandboxServer"]
