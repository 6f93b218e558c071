"""The few words the Telegram adapter says itself (English and Chinese, by language_code)."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "too_big": (
            "That file is {size} MB; Telegram lets bots download files up to {limit} MB. "
            "Please send a shorter or smaller one."
        ),
        "interrupted": (
            "I was restarted while working on this message. If no answer arrived, "
            "please send it again."
        ),
        "failed": "Something went wrong with that message; please try again.",
        "not_yours_prompt": "That question was for someone else.",
        "download_failed": "I could not fetch your file from Telegram; please send it again.",
        "bad_option": "{name}:{value} is not an option here; {name} takes one of: {choices}.",
    },
    "zh": {
        "too_big": (
            "这个文件有 {size} MB；Telegram 只允许机器人下载不超过 {limit} MB 的文件。"
            "请发送更短或更小的文件。"
        ),
        "interrupted": "处理这条消息时我重启了。如果没有收到回复，请重新发送。",
        "failed": "处理这条消息时出错了，请再试一次。",
        "not_yours_prompt": "这个问题是问别人的。",
        "download_failed": "无法从 Telegram 获取你的文件，请重新发送。",
        "bad_option": "{name}:{value} 不是有效选项；{name} 可以是：{choices}。",
    },
}


def language_of(code: str | None) -> str:
    """"zh-hans" -> "zh"; anything we have no words for -> "en"."""
    short = (code or "en").lower().replace("_", "-").split("-")[0]
    return short if short in _TEXTS else "en"


def say(code: str | None, key: str, **values: object) -> str:
    """The adapter's sentence `key` in the user's language."""
    return _TEXTS[language_of(code)][key].format(**values)
