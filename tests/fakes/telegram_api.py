"""A fake Telegram Bot API server (aiohttp, loopback, port 0) that a real PTB `Bot` talks to.

It checks what Telegram checks and PTB does not: text and caption lengths, callback data bytes,
keyboard sizes, entity ranges, identical edits ("message is not modified"), per-chat and global
flood limits (429 with `retry_after`). It serves file downloads, keeps every call, and lets a
test push updates as users would and inject faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.telegram_limits import FloodLimits
from tests.fakes.telegram_model import (
    ApiError,
    Call,
    ChatMessage,
    Json,
    StoredFile,
    utf16_len,
)
from tests.fakes.telegram_users import UserSide

BOT_ID = 4242
BOT_USERNAME = "modelbridge_test_bot"
BOT_USER: Json = {
    "id": BOT_ID, "is_bot": True, "first_name": "Modelbridge", "username": BOT_USERNAME,
}
JSON_KEYS = {
    "chat_id", "reply_markup", "media", "entities", "caption_entities", "commands", "message_id",
    "offset", "limit", "timeout", "allowed_updates", "reply_parameters", "draft_id", "scope",
    "show_alert", "message_thread_id", "duration",
}
# Requests that put something in a chat, so count against its flood limit.
PACED = {
    "sendMessage", "editMessageText", "editMessageCaption", "editMessageMedia",
    "editMessageReplyMarkup", "sendPhoto", "sendVoice", "sendAudio", "sendDocument",
    "sendMediaGroup", "sendMessageDraft",
}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class FakeTelegram(UserSide):
    """The fake server; `await start()` returns its root URL."""

    def __init__(self, token: str = "123456:TEST-token-secret", *, limits: bool = True) -> None:
        self.token = token
        self.limits = FloodLimits(enabled=limits)
        self.calls: list[Call] = []
        self.chats: dict[int, Json] = {}
        self.messages: dict[tuple[int, int], ChatMessage] = {}
        self.drafts: dict[int, list[tuple[float, str]]] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[str, list[Json]] = {}
        self.faults: dict[str, list[ApiError]] = {}
        self.rate_limited = 0
        self._updates: list[Json] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- server ---------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        # Control from another process (bench/telegram.py runs the fake in a child).
        app.router.add_post("/_control/message", self._control_message)
        app.router.add_get("/_control/state", self._control_state)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await _params(request)
        call = Call(method, params, files, time.monotonic())
        self.calls.append(call)
        try:
            result = await self._dispatch(method, params, files)
        except ApiError as exc:
            call.status = exc.status
            if exc.status == 429:
                self.rate_limited += 1
            return web.json_response(exc.body(), status=exc.status)
        return web.json_response({"ok": True, "result": result})

    async def _control_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.add_chat(int(body["chat_id"]), str(body.get("type", "private")))
        update_id = self.push_text(int(body["chat_id"]), str(body["text"]))
        return web.json_response({"update_id": update_id})

    async def _control_state(self, request: web.Request) -> web.Response:
        """Every bot message's history and every draft, with monotonic timestamps."""
        return web.json_response({
            "rate_limited": self.rate_limited,
            "messages": [
                {"chat_id": m.chat_id, "message_id": m.message_id, "deleted": m.deleted,
                 "history": m.history}
                for m in self.messages.values() if m.sender.get("is_bot")
            ],
            "drafts": {str(chat): items for chat, items in self.drafts.items()},
        })

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.path == path:
                return web.Response(body=stored.data)
        return web.Response(status=404)

    async def _dispatch(self, method: str, p: Json, files: dict[str, tuple[str, bytes]]) -> Any:
        for key in (f"{method}@{p.get('chat_id')}", method):
            queued = self.faults.get(key)
            if queued:
                raise queued.pop(0)
        if method in PACED:
            chat_id = int(p["chat_id"])
            retry = self.limits.check(chat_id, self._chat(chat_id)["type"] == "private")
            if retry:
                raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)
        handler: Callable[[Json, dict[str, tuple[str, bytes]]], Any] | None = getattr(
            self, f"_m_{method}", None
        )
        if handler is None:
            if method in {"deleteWebhook", "setMyCommands", "sendChatAction", "close"}:
                if method == "setMyCommands":
                    self.commands[str(p.get("language_code", ""))] = list(p["commands"])
                return True
            raise ApiError(404, "Not Found: method not found")
        result = handler(p, files)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    # --- methods ----------------------------------------------------------------------------

    def _m_getMe(self, p: Json, f: Any) -> Json:
        return BOT_USER

    async def _m_getUpdates(self, p: Json, f: Any) -> list[Json]:
        offset = int(p.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_update.clear()
            timeout = float(p.get("timeout") or 0)
            if timeout:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
        limit = int(p.get("limit") or 100)
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    def _m_sendMessage(self, p: Json, f: Any) -> Json:
        text = str(p.get("text", ""))
        entities = list(p.get("entities") or [])
        _check_text(text, entities, 4096)
        return self._post(p, text=text, entities=entities)

    def _m_sendMessageDraft(self, p: Json, f: Any) -> bool:
        text = str(p.get("text") or "")
        _check_text(text, list(p.get("entities") or []), 4096, allow_empty=True)
        if self._chat(int(p["chat_id"]))["type"] != "private":
            raise ApiError(400, "Bad Request: drafts can be sent to private chats only")
        self.drafts.setdefault(int(p["chat_id"]), []).append((time.monotonic(), text))
        return True

    def _m_sendPhoto(self, p: Json, f: dict[str, tuple[str, bytes]]) -> Json:
        if "photo" in f and len(f["photo"][1]) > 10 * 1024 * 1024:
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        return self._post_file(p, f, "photo")

    def _m_sendVoice(self, p: Json, f: dict[str, tuple[str, bytes]]) -> Json:
        return self._post_file(p, f, "voice")

    def _m_sendAudio(self, p: Json, f: dict[str, tuple[str, bytes]]) -> Json:
        return self._post_file(p, f, "audio")

    def _m_sendDocument(self, p: Json, f: dict[str, tuple[str, bytes]]) -> Json:
        return self._post_file(p, f, "document")

    def _m_sendMediaGroup(self, p: Json, f: dict[str, tuple[str, bytes]]) -> list[Json]:
        media = list(p["media"])
        if not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the group")
        out = []
        for item in media:
            data = _attached(str(item["media"]), f)
            caption = str(item.get("caption") or "")
            _check_text(caption, list(item.get("caption_entities") or []), 1024, True)
            out.append(
                self._post(p, text=caption, kind=str(item["type"]), file_id=self.add_file(data))
            )
        return out

    def _m_editMessageText(self, p: Json, f: Any) -> Json:
        msg = self._message(p)
        text = str(p.get("text", ""))
        entities = list(p.get("entities") or [])
        _check_text(text, entities, 4096)
        if msg.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._edit(msg, p, text, entities)

    def _m_editMessageCaption(self, p: Json, f: Any) -> Json:
        msg = self._message(p)
        text = str(p.get("caption") or "")
        entities = list(p.get("caption_entities") or [])
        _check_text(text, entities, 1024, allow_empty=True)
        if msg.kind == "text":
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        return self._edit(msg, p, text, entities)

    def _m_editMessageMedia(self, p: Json, f: dict[str, tuple[str, bytes]]) -> Json:
        msg = self._message(p)
        media = p["media"]
        text = str(media.get("caption") or "")
        _check_text(text, list(media.get("caption_entities") or []), 1024, allow_empty=True)
        msg.kind = str(media["type"])
        msg.file_id = self.add_file(_attached(str(media["media"]), f))
        msg.text, msg.entities = text, list(media.get("caption_entities") or [])
        msg.reply_markup = _markup(p)
        msg.history.append((time.monotonic(), text))
        return self._message_json(msg)

    def _m_editMessageReplyMarkup(self, p: Json, f: Any) -> Json:
        msg = self._message(p)
        return self._edit(msg, p, msg.text, msg.entities)

    def _m_deleteMessage(self, p: Json, f: Any) -> bool:
        key = (int(p["chat_id"]), int(p["message_id"]))
        msg = self.messages.get(key)
        if msg is None or msg.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        msg.deleted = True
        return True

    def _m_answerCallbackQuery(self, p: Json, f: Any) -> bool:
        if len(str(p.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _m_getFile(self, p: Json, f: Any) -> Json:
        file_id = str(p["file_id"])
        stored = self.files.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": stored.size,
            "file_path": stored.path,
        }

    # --- helpers for the methods -------------------------------------------------------------

    def _message(self, p: Json) -> ChatMessage:
        msg = self.messages.get((int(p["chat_id"]), int(p["message_id"])))
        if msg is None or msg.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        return msg

    def _edit(self, msg: ChatMessage, p: Json, text: str, entities: list[Json]) -> Json:
        markup = _markup(p)
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        msg.history.append((time.monotonic(), text))
        return self._message_json(msg)

    def _post(
        self, p: Json, *, text: str, entities: list[Json] | None = None, kind: str = "text",
        file_id: str = "",
    ) -> Json:
        chat_id = int(p["chat_id"])
        reply = p.get("reply_parameters") or {}
        markup = _markup(p)
        msg = ChatMessage(
            chat_id, next(self._message_ids), BOT_USER, text, list(entities or []), kind, file_id,
            reply_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_to=int(reply["message_id"]) if reply.get("message_id") else None,
            force_reply=bool(markup and markup.get("force_reply")),
        )
        msg.history.append((time.monotonic(), text))
        self.messages[(chat_id, msg.message_id)] = msg
        return self._message_json(msg)

    def _post_file(self, p: Json, f: dict[str, tuple[str, bytes]], kind: str) -> Json:
        value = p.get(kind)
        data = f[kind][1] if kind in f else _attached(str(value), f)
        caption = str(p.get("caption") or "")
        entities = list(p.get("caption_entities") or [])
        _check_text(caption, entities, 1024, allow_empty=True)
        return self._post(
            p, text=caption, entities=entities, kind=kind, file_id=self.add_file(data)
        )

    def _message_json(self, msg: ChatMessage) -> Json:
        out: Json = {
            "message_id": msg.message_id,
            "date": int(time.time()),
            "chat": self._chat(msg.chat_id),
            "from": msg.sender,
        }
        if msg.kind == "text":
            out["text"] = msg.text
            if msg.entities:
                out["entities"] = msg.entities
        else:
            out.update(self._media_json(msg.kind, msg.file_id))
            if msg.text:
                out["caption"] = msg.text
        if msg.reply_markup:
            out["reply_markup"] = msg.reply_markup
        return out

    def _media_json(self, kind: str, file_id: str) -> Json:
        size = self.files[file_id].size
        base = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size}
        if kind == "photo":
            return {"photo": [{**base, "width": 512, "height": 512}]}
        if kind in ("voice", "audio", "video_note"):
            extra = {"length": 240} if kind == "video_note" else {"mime_type": "audio/ogg"}
            return {kind: {**base, "duration": 2, **extra}}
        return {"document": {**base, "file_name": "file.bin", "mime_type": "image/png"}}


def _markup(p: Json) -> Json | None:
    markup = p.get("reply_markup")
    if not markup:
        return None
    rows = markup.get("inline_keyboard")
    if rows is not None:
        if sum(len(r) for r in rows) > 100 or any(len(r) > 8 for r in rows):
            raise ApiError(400, "Bad Request: too many inline keyboard buttons")
        for row in rows:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return dict(markup)


def _check_text(text: str, entities: list[Json], limit: int, allow_empty: bool = False) -> None:
    size = utf16_len(text)
    if not text.strip() and not allow_empty:
        raise ApiError(400, "Bad Request: message text is empty")
    if size > limit:
        what = "message is too long" if limit == 4096 else "message caption is too long"
        raise ApiError(400, f"Bad Request: {what}")
    for e in entities:
        if int(e["offset"]) < 0 or int(e["offset"]) + int(e["length"]) > size:
            raise ApiError(400, "Bad Request: can't parse entities: entity beyond the end")


def _attached(value: str, files: dict[str, tuple[str, bytes]]) -> bytes:
    if value.startswith("attach://"):
        return files[value.removeprefix("attach://")][1]
    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")


async def _params(req: web.Request) -> tuple[Json, dict[str, tuple[str, bytes]]]:
    """Form, multipart, JSON or query parameters as one dict, plus uploaded files."""
    p: Json = dict(req.query)
    files: dict[str, tuple[str, bytes]] = {}
    if req.content_type == "application/json":
        p.update(await req.json())
    elif req.content_type == "multipart/form-data":
        reader = await req.multipart()
        async for part in reader:
            if part.filename is not None:  # type: ignore[union-attr]
                files[str(part.name)] = (part.filename, bytes(await part.read()))  # type: ignore[union-attr]
            else:
                p[str(part.name)] = await part.text()  # type: ignore[union-attr]
    elif req.can_read_body:
        p.update(await req.post())
    for key in p.keys() & JSON_KEYS:
        if isinstance(p[key], str):
            with contextlib.suppress(ValueError):
                p[key] = json.loads(p[key])
    return p, files
