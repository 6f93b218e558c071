"""What tests do as Telegram users (send, reply, press, upload) and read back, on the fake."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from tests.fakes.telegram_model import ApiError, Call, ChatMessage, Json, StoredFile, utf16_len


class UserSide:
    """Mixed into `FakeTelegram`: the user-facing half of the fake."""

    calls: list[Call]
    chats: dict[int, Json]
    messages: dict[tuple[int, int], ChatMessage]
    files: dict[str, StoredFile]
    faults: dict[str, list[ApiError]]
    _updates: list[Json]
    _update_ids: itertools.count[int]
    _message_ids: itertools.count[int]
    _file_ids: itertools.count[int]
    _query_ids: itertools.count[int]
    _new_update: Any

    def _chat(self, chat_id: int) -> Json:
        return self.chats.setdefault(chat_id, {"id": chat_id, "type": "private"})

    def _media_json(self, kind: str, file_id: str) -> Json:
        raise NotImplementedError

    def _message_json(self, msg: ChatMessage) -> Json:
        raise NotImplementedError

    # --- what tests do as users -------------------------------------------------------------

    def add_file(self, data: bytes, *, size: int | None = None, folder: str = "files") -> str:
        """Store bytes under a new file_id; `size` may claim more than is stored (big files)."""
        file_id = f"F{next(self._file_ids)}"
        self.files[file_id] = StoredFile(data, f"{folder}/file_{file_id}.bin", size or len(data))
        return file_id

    def add_chat(self, chat_id: int, kind: str = "private", title: str = "") -> None:
        self.chats[chat_id] = {"id": chat_id, "type": kind, **({"title": title} if title else {})}

    def user(self, user_id: int, name: str = "", language: str = "en") -> Json:
        return {
            "id": user_id, "is_bot": False, "first_name": name or f"user{user_id}",
            "language_code": language,
        }

    def user_message(
        self,
        chat_id: int,
        text: str = "",
        *,
        user_id: int | None = None,
        language: str = "en",
        reply_to: int | None = None,
        photo: bytes | None = None,
        voice: bytes | None = None,
        voice_size: int | None = None,
        audio: bytes | None = None,
        video_note: bytes | None = None,
        document: tuple[bytes, str] | None = None,
        media_group_id: str | None = None,
        push: bool = True,
    ) -> Json:
        """Push a user's message (text, or a caption with a photo/voice/...) as an update."""
        chat = self._chat(chat_id)
        sender = self.user(user_id if user_id is not None else chat_id, language=language)
        msg: Json = {
            "message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
            "from": sender,
        }
        has_media = any(x is not None for x in (photo, voice, audio, video_note, document))
        key = "caption" if has_media else "text"
        if text or not has_media:
            msg[key] = text
            entities = _command_entities(text)
            if entities:
                msg[f"{key}_entities" if has_media else "entities"] = entities
        if photo is not None:
            msg.update(self._media_json("photo", self.add_file(photo, folder="photos")))
        for kind, data in (("voice", voice), ("audio", audio), ("video_note", video_note)):
            if data is not None:
                file_id = self.add_file(data, size=voice_size, folder=kind)
                msg.update(self._media_json(kind, file_id))
        if document is not None:
            file_id = self.add_file(document[0], folder="documents")
            msg["document"] = {
                "file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(document[0]),
                "file_name": "upload", "mime_type": document[1],
            }
        if media_group_id:
            msg["media_group_id"] = media_group_id
        if reply_to is not None:
            msg["reply_to_message"] = self._reply_target(chat_id, reply_to)
        self.messages[(chat_id, msg["message_id"])] = ChatMessage(
            chat_id, msg["message_id"], sender, text, kind="text" if not has_media else "photo",
            file_id=_first_file_id(msg),
        )
        if push:
            self.push({"message": msg})
        return msg

    def _reply_target(self, chat_id: int, message_id: int) -> Json:
        target = self.messages[(chat_id, message_id)]
        if target.sender.get("is_bot") or target.kind == "text":
            return self._message_json(target) if target.sender.get("is_bot") else {
                "message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id),
                "from": target.sender, "text": target.text,
            }
        out: Json = {
            "message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id),
            "from": target.sender,
        }
        stored = self.files[target.file_id]
        kind = stored.path.split("/", 1)[0]
        kind = {"photos": "photo", "documents": "document"}.get(kind, kind)
        out.update(self._media_json(kind, target.file_id))
        return out

    def press(self, chat_id: int, message_id: int, data: str, *, user_id: int) -> str:
        """Press an inline button as `user_id`; returns the callback query id."""
        query_id = f"Q{next(self._query_ids)}"
        msg = self.messages[(chat_id, message_id)]
        self.push({
            "callback_query": {
                "id": query_id, "from": self.user(user_id), "chat_instance": f"ci{chat_id}",
                "data": data, "message": self._message_json(msg),
            }
        })
        return query_id

    def push_text(self, chat_id: int, text: str, **options: Any) -> int:
        """`user_message`, returning the update's id."""
        return self.push({"message": self.user_message(chat_id, text, push=False, **options)})

    def push(self, body: Json) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **body})
        self._new_update.set()
        return update_id

    def fail_next(
        self, method: str, status: int = 500, description: str = "Internal Server Error",
        *, retry_after: int | None = None, times: int = 1, chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (in `chat_id` only, if given) fail like this."""
        key = method if chat_id is None else f"{method}@{chat_id}"
        self.faults.setdefault(key, []).extend(
            ApiError(status, description, retry_after) for _ in range(times)
        )

    # --- what tests read back ---------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's visible messages in a chat, oldest first."""
        return [
            m for (c, _), m in sorted(self.messages.items())
            if c == chat_id and m.sender.get("is_bot") and not m.deleted
        ]

    def answers(self, query_id: str) -> list[Json]:
        return [c.params for c in self.called("answerCallbackQuery")
                if c.params.get("callback_query_id") == query_id]


def _first_file_id(msg: Json) -> str:
    for kind in ("voice", "audio", "video_note", "document"):
        if kind in msg:
            return str(msg[kind]["file_id"])
    if "photo" in msg:
        return str(msg["photo"][-1]["file_id"])
    return ""


def _command_entities(text: str) -> list[Json]:
    """The entities Telegram's clients add: a leading /command and @mentions."""
    out = []
    if text.startswith("/"):
        word = text.split(maxsplit=1)[0]
        out.append({"type": "bot_command", "offset": 0, "length": utf16_len(word)})
    for match in re.finditer(r"(?<![\w/])@\w{3,}", text):
        offset = utf16_len(text[: match.start()])
        out.append({"type": "mention", "offset": offset, "length": utf16_len(match.group())})
    return out
