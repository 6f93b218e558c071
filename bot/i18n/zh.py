"""Chinese messages. Keys missing here fall back to English until translated."""

MESSAGES: dict[str, str] = {
    "error.generic": "出错了，请稍后再试。",
    "error.denied": "你没有权限使用这个命令：{reason}",
    "command.unknown": "未知命令 /{command}。输入 /help 查看可用命令。",
    "button.unknown": "这个按钮已过期或已失效。",
    "button.not_yours": "只有发起这个任务的人才能使用它的按钮。",
    "text.expired": "这个请求已过期，请重新点击按钮。",
    "text.not_yours": "只有点击按钮的人才能回答这个问题。",
    # Command menus (Telegram setMyCommands, Discord slash-command descriptions) and /help.
    "help.cmd.ask": "向 AI 提问；附上图片可以询问图片内容",
    "help.cmd.reset": "忘记之前的对话，开始新的对话",
    "help.cmd.model": "查看或选择提问所用的 AI 模型",
    "help.cmd.imagine": "用 Midjourney（或 DALL·E 3）根据提示词生成图片",
    "help.cmd.describe": "为一张图片生成四条 Midjourney 提示词",
    "help.cmd.blend": "用 Midjourney 将 2 到 5 张图片融合成新图片",
    "help.cmd.swapface": "把第一张图片中的脸换到第二张图片上",
    "help.cmd.shorten": "缩短一条 Midjourney 提示词",
    "help.cmd.transcribe": "把语音消息或音频文件转成文字",
    "help.cmd.speak": "把文字朗读成语音消息",
    "help.cmd.help": "查看我能做什么",
}
