"""The console adapter: chat with the bot in a terminal, or feed it a script on stdin."""

from adapters.console.app import ConsoleAdapter

__all__ = ["ConsoleAdapter"]
