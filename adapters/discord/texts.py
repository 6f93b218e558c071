"""What the Discord adapter itself says (the core says everything else), in English and Chinese."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "too_big": "That file is too big: {name} is {size} MB, and the limit here is {limit} MB.",
        "wrong_type": "{name} is not {kind} I can use (it is {mime}).",
        "download_failed": "I could not download {name}. Please try again.",
        "failed": "Something went wrong on my side. Please try again.",
        "done": "✅",
        "restart_apology": "Sorry, I restarted before I could answer this. Please run the "
                           "command again.",
        "interrupted": "*(interrupted by a restart; please ask again)*",
        "slow_press": "That took too long to open. Please press the button again.",
        "late_result": "{mention} here is the result of your request:",
        "no_audio": "That message has no audio or voice message to transcribe.",
        "transcribe": "Transcribe",
        "image": "an image",
        "audio": "audio",
    },
    "zh": {
        "too_big": "文件太大：{name} 为 {size} MB，此处上限为 {limit} MB。",
        "wrong_type": "{name} 不是我能使用的{kind}（它是 {mime}）。",
        "download_failed": "无法下载 {name}，请重试。",
        "failed": "出了点问题，请重试。",
        "done": "✅",
        "restart_apology": "抱歉，我在回答之前重启了。请重新运行该命令。",
        "interrupted": "*（因重启而中断，请重新提问）*",
        "slow_press": "打开超时，请再按一次按钮。",
        "late_result": "{mention} 这是你请求的结果：",
        "no_audio": "该消息没有可转写的音频或语音消息。",
        "transcribe": "转写",
        "image": "图片",
        "audio": "音频",
    },
}


def language_of(locale: object) -> str:
    """Our language for a Discord locale (`zh-CN`, `zh-TW` -> zh; everything else -> en)."""
    return "zh" if str(locale).lower().startswith("zh") else "en"


def text(language: str, key: str, **values: object) -> str:
    table = TEXTS.get(language, TEXTS["en"])
    return (table.get(key) or TEXTS["en"][key]).format(**values)
