"""Telegram (python-telegram-bot v22): the core's commands, buttons and streams in Telegram chats.

Imported only when a bot token is configured. Entry: `TelegramAdapter` (adapter.py).
"""
