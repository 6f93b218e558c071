"""Chinese messages. Keys missing here fall back to English until translated."""

MESSAGES: dict[str, str] = {
    "error.generic": "出错了，请稍后再试。",
    "error.denied": "你没有权限使用这个命令：{reason}",
    "command.unknown": "未知命令 /{command}。输入 /help 查看可用命令。",
}
