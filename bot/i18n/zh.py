"""Simplified Chinese messages: the same keys as en.py (a test keeps them complete)."""

MESSAGES: dict[str, str] = {
    # --- common -------------------------------------------------------------------------
    "error.generic": "出错了，请稍后再试。",
    "error.denied": "你不能使用这个命令：{reason}",
    "error.upstream": "⚠️ {message}",
    "command.unknown": "未知命令 /{command}。发送 /help 查看我能做什么。",
    "button.unknown": "这个按钮已过期或已失效。",
    "button.not_yours": "只有发起这个任务的人才能使用它的按钮。",
    "input.empty_prompt": "请在 /{command} 后面加上提示词。",
    "input.too_long": "内容太长了（{length} 个字符，上限为 {limit}）。",
    "input.ignored": "我忽略了 {names}：/{command} 只使用{kinds}。",
    "input.ignored_all": "我忽略了 {names}：/{command} 不使用附件。",
    "input.kind.image": "图片",
    "input.kind.audio": "音频",
    "input.request_too_big": (
        "这些文件合起来是 {size_mb} MB 的请求，而 AI 服务最多接受 {limit_mb} MB。"
        "请少发几个或发更小的文件。"
    ),
    # --- upstream errors: what each UpstreamError class says (bot/upstream/errors.py) ------
    "upstream.failed": "AI 服务出错了，请稍后再试。",
    "upstream.authentication": "机器人无法正常访问 AI 服务，请告知管理员。",
    "upstream.permission": "机器人无权使用这个模型或功能。",
    "upstream.quota": "AI 服务的余额已用完，请告知管理员。",
    "upstream.rate_limited": "AI 服务正忙，请一分钟后再试。",
    "upstream.invalid_request": "AI 服务拒绝了这个请求。",
    "upstream.not_found": "找不到这个任务或模型（可能已过期）。",
    "upstream.task_not_ready": "这张图片还没有完成。",
    "upstream.server_error": "AI 服务内部出错，请稍后再试。",
    "upstream.not_supported": "AI 服务不支持这个功能。",
    "upstream.bad_response": "AI 服务返回的内容机器人无法读取。",
    "upstream.timeout": "AI 服务响应超时，请重试。",
    "upstream.connection_failed": "暂时无法连接 AI 服务，请稍后再试。",
    "upstream.stream_interrupted": "回答被中断了。",
    "upstream.mj_rejected": "Midjourney 拒绝了这个任务。",
    "upstream.banned_prompt": "Midjourney 不允许这个提示词。",
    "upstream.banned_word": "Midjourney 不允许这个提示词（违禁词：{word}）。",
    "upstream.queue_full": "Midjourney 的队列已满，请过几分钟再试。",
    "upstream.model_not_available": "这里没有这个模型。",
    "upstream.model_named": "这里没有模型 {model}。",
    "upstream.not_offered": "这个网关不提供该功能。",
    "upstream.destination_refused": "无法获取这个链接。",
    "upstream.maybe_charged": (
        "请求发出后连接断开了，它可能已被处理并扣费。我没有再次发送；如果你重复这个请求，可能会被扣费两次。"
    ),
    # --- what this gateway offers (bot/offers.py) -------------------------------------------
    "gateway.missing": "这个网关没有{feature}。",
    "gateway.missing_instead": "这个网关没有{feature}；可以改用 {alternative}。",
    "gateway.feature.midjourney": "Midjourney",
    "gateway.feature.chat": "聊天模型",
    "gateway.feature.image": "绘图模型",
    "gateway.feature.speech": "语音合成模型",
    "gateway.feature.transcription": "语音识别模型",
    # --- chat (/ask, /model, /reset) ------------------------------------------------------
    "chat.thinking": "…",
    "chat.image_default_prompt": "这张图片里有什么？",
    "chat.image_too_big": "图片太大了（{size} MB，上限为 {limit} MB）。",
    "chat.no_vision": (
        "{model} 无法识别图片，目前也没有能识图的模型。"
        "请改用文字提问，或请管理员开放一个视觉模型。"
    ),
    "chat.vision_switched": "_{model} 无法识别图片，这次由 {vision} 回答。_",
    "chat.too_long": (
        "你的消息对 {model} 来说太长了：约 {tokens} 个 token，最多只能容纳 {limit} 个。"
        "请精简一下，或分几次发送。"
    ),
    "chat.cut": "⚠️ _回答被中断了，再问一次即可继续。_",
    "chat.empty_answer": "_模型返回了空回答，请重试。_",
    "chat.reset_done": "🧹 已开启新对话，之前的消息已清空。",
    "chat.model_current": "当前模型：**{model}**",
    "chat.model_choices": "可用模型：{models}",
    "chat.model_pick": "在下方选择，或发送 /model <模型名>。",
    "chat.model_set": "✅ 之后你的问题将由 **{model}** 回答。",
    "chat.model_unknown": "这里没有名为 {model} 的模型。可用模型：{models}",
    "chat.model_not_allowed": "本机器人不允许使用 {model}。可用模型：{models}",
    "chat.model_gone": "发送 /model 换一个模型。",
    "chat.model_none": "目前没有可用的对话模型。",
    # --- midjourney (/imagine, buttons, /describe, /blend, /swapface, /shorten) ----------
    "mj.bad_engine": "未知引擎“{engine}”。请选择 midjourney 或 dalle。",
    "mj.not_an_image": "“{name}”不是我能处理的图片（请使用 PNG、JPEG、GIF 或 WebP）。",
    "mj.image_broken": "“{name}”已损坏或不完整，请重新发送。",
    "mj.image_too_many_pixels": (
        "“{name}”有 {megapixels} 百万像素，超出了我能处理的范围（最多 {limit}）。"
    ),
    "mj.image_too_big": "“{name}”太大了（{size_mb} MB，上限为 {limit_mb} MB）。",
    "mj.too_many_images": "/{command} 最多接受 {limit} 张图片，你发送了 {count} 张。",
    "mj.dalle_no_images": "DALL·E 3 只根据提示词作画；要使用参考图，请选择 midjourney 引擎。",
    "mj.describe_needs_image": "请在 /describe 中附上要描述的图片。",
    "mj.blend_count": "/blend 需要 2 到 5 张图片，你发送了 {count} 张。",
    "mj.blend_bad_dimensions": (
        "比例只能是 portrait（竖版）、square（方形）或 landscape（横版），不能是“{dimensions}”。"
    ),
    "mj.swapface_count": (
        "/swapface 需要正好两张图片：先发人脸，再发要换脸的图片（你发送了 {count} 张）。"
    ),
    "mj.title.imagine": "{prompt}",
    "mj.title.action": "{label} · {prompt}",
    "mj.title.blend": "混合 {count} 张图片",
    "mj.title.describe": "图片描述",
    "mj.title.shorten": "精简提示词“{prompt}”",
    "mj.title.swapface": "换脸",
    "mj.title.dalle": "🖌️ DALL·E 3 正在绘制：{prompt}",
    "mj.progress.queued": "⏳ 等待开始：{title}",
    "mj.progress.running": "🎨 正在处理：{title}",
    "mj.done": "✅ {title}",
    "mj.failed": (
        "❌ {title}\n任务未能完成。原因：{reason}\n失败的任务会由网关退款。"
    ),
    "mj.no_reason": "未知",
    "mj.deadline": (
        "⌛ {title}\n这个任务在 {minutes} 分钟内没有完成，我已停止等待。"
        "一直未完成的任务会由网关退款。"
    ),
    "mj.unknown": (
        "⚠️ {title}\n发送这个任务时我重启了，所以无法确定它是否已送达 Midjourney。"
        "为避免重复扣费，我没有再次发送；如果它出现了，结果会显示在这里，/jobs 可以查看它的状态。"
    ),
    "mj.maybe_charged": (
        "任务发出后与 Midjourney 的连接断开了，它可能已被创建并扣费。我没有再次发送："
        "/jobs 会把它列为未知状态，如果它出现了，结果会显示在这里。"
    ),
    "mj.unknown_unfindable": (
        "⚠️ {title}\n我在网关最近的任务里找不到这个任务，所以无法确定它是否已送达 Midjourney。"
        "再次执行之前，请先在网关账户的任务记录里查找（或询问管理员），以免重复扣费。"
    ),
    "mj.repeat.running": "⏳ {title}\n这张图片的这个操作已在进行中，结果会显示在这里。",
    "mj.repeat.unknown": (
        "⚠️ {title}\n这个操作之前已经发送过，但我无法确定它是否送达了 Midjourney（见 /jobs）。"
        "只有在你愿意再付一次费用时才按“再来一次”。"
    ),
    "mj.button.again": "再来一次",
    "jobs.title": "你最近的任务：",
    "jobs.none": "你还没有 Midjourney 任务。",
    "jobs.line": "{status} · {title} · {when}",
    "jobs.status.submitting": "📤 发送中",
    "jobs.status.pending": "⏳ 进行中",
    "jobs.status.modal": "✏️ 等待你的提示词",
    "jobs.status.success": "✅ 已完成",
    "jobs.status.failure": "❌ 失败",
    "jobs.status.unknown": "❔ 未知（可能已扣费）",
    "mj.describe.result": "🔎 根据你的图片生成的提示词：\n\n{prompts}",
    "mj.shorten.result": "✂️ 精简后的提示词：\n\n{prompts}",
    "mj.no_prompts": "Midjourney 这次没有返回任何提示词。",
    "mj.button.imagine_n": "生成 {n}",
    "mj.button.seed": "种子",
    "mj.seed": "🌱 这张图片的种子：{seed}\n在提示词中加上 --seed {seed}，可以得到相似的结果。",
    "mj.job_gone": "我已找不到这个按钮对应的图片，请重新执行命令。",
    "mj.dalle.done": "🖼️ {prompt}",
    "mj.modal.title.inpaint": "局部重绘",
    "mj.modal.title.zoom": "自定义缩放",
    "mj.modal.title.remix": "Remix 提示词",
    "mj.modal.label": "提示词",
    "mj.modal.placeholder.inpaint": "图片中央应出现的内容",
    "mj.modal.placeholder.zoom": "提示词，带上 1 到 2 之间的 --zoom",
    "mj.modal.placeholder.remix": "新图片的提示词",
    "mj.modal.cancelled": "已取消，没有向 Midjourney 发送任何内容。",
    # --- audio (/transcribe, /speak) -------------------------------------------------------
    "audio.missing": "请在 /transcribe 中附上语音消息或音频文件。",
    "audio.not_audio": (
        "这个文件不是我能读取的音频（请发送 Ogg/Opus、MP3、WAV、FLAC、M4A 或 WebM）。"
    ),
    "audio.too_big": "音频太大了（{size} MB，上限为 {limit} MB）。",
    "audio.no_speech": "这段录音里没有听到任何说话声。",
    "audio.transcript": "📝 {text}",
    "audio.transcript_long": "📝 {text}\n\n_完整的转写文本（{length} 个字符）见附件。_",
    "audio.speak_empty": "请在 /speak 后面加上要朗读的文字。",
    "audio.bad_voice": "未知音色 {voice}。可选音色：{voices}",
    # --- console adapter (its own framing: files, options, button numbers) ---------------
    "console.no_such_file": "文件不存在：{path}（用 @路径/文件名 附加文件）",
    "console.not_a_file": "不是文件：{path}",
    "console.file_too_big": "{path} 太大，无法附加（{size} MiB，上限为 {limit} MiB）",
    "console.unreadable_file": "无法读取 {path}：{reason}",
    "console.option_needs_value": "选项 {name}：需要一个值，例如 {name}:{example}",
    "console.option_bad_choice": "选项 {name}：“{value}”不在可选值 {choices} 中",
    "console.option_bad_flag": "选项 {name}：“{value}”不是 yes 或 no",
    "console.press_usage": "用法：/press <编号>（或直接输入编号）",
    "console.nothing_to_cancel": "没有可以取消的操作。",
    "console.no_such_button": "没有按钮 [{number}]。",
    "console.waiting_for_button": "（等待按钮 [{number}] 出现…）",
    "console.line_failed": "这一行无法处理，详情见日志。",
    "console.answer_too_long": "内容太长了（{length} 个字符，上限为 {limit}），请重试。",
    "console.ask_hint": "空行 = {default}，/cancel 取消",
    "console.ask_hint_no_default": "/cancel 取消",
    "console.waiting_for_jobs": (
        "正在等待 {count} 个任务完成（按 Ctrl-C 立即退出，下次启动时会继续）…"
    ),
    "console.still_running": "已停止等待：仍有 {count} 个任务在运行，下次启动时会继续。",
    "console.image": "[图片]",
    "console.preview": "[预览]",
    "console.audio": "[音频]",
    "console.file": "[文件]",
    # --- help ------------------------------------------------------------------------------
    "help.intro": "你好！我把 AI 网关带进了这个聊天。可用命令：",
    "help.footer.voice": "发送语音消息，我会把它转成文字。",
    "help.footer.private": "在私聊中，任何文字都会交给 /ask。",
    "help.footer.buttons": "Midjourney 图片下方的按钮只有发起任务的人可以使用。",
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
    "help.cmd.jobs": "列出你最近的 Midjourney 任务及其状态",
    "help.cmd.help": "显示这份帮助",
    # --- text requests and remix prompts --------------------------------------------------
    "console.ask_cancelled": "已取消。",
    "mj.button.remix": "填写提示词",
    "mj.remix.ask": "{title}\n\nMidjourney 正在等待你的提示词（Remix）：点击 ✏️ 填写。",
    "mj.remix.closed": "这个任务已不再等待提示词。",
    "mj.remix.sent": "这个任务的提示词已经发送过了。",
    "text.expired": "这个请求已过期，请重新点击按钮。",
    "text.not_yours": "只有点击按钮的人才能回答这个问题。",
    # --- access, quotas, usage, settings, language (/usage, /stats, /settings, /lang) -------
    "bot.stopping": "机器人正在重启，请一分钟后再试。",
    "policy.user_not_allowed": "这个机器人只对运营者允许的用户开放。",
    "policy.chat_not_allowed": "这个聊天未启用本机器人。",
    "policy.guild_not_allowed": "这个服务器未启用本机器人。",
    "quota.user": (
        "你已达到每日上限（{kind}：{limit}，已用 {used}）。"
        "将在 {hours} 小时 {minutes} 分钟后（UTC 00:00）重置。"
    ),
    "quota.chat": (
        "这个聊天已达到每日上限（{kind}：{limit}，已用 {used}）。"
        "将在 {hours} 小时 {minutes} 分钟后（UTC 00:00）重置。"
    ),
    "quota.kind.chat_tokens": "对话 token",
    "quota.kind.mj_jobs": "Midjourney 任务",
    "quota.kind.mj_actions": "Midjourney 按钮操作",
    "quota.kind.images": "图片",
    "quota.kind.transcribe_seconds": "语音转写秒数",
    "quota.kind.speech_chars": "朗读字符数",
    "quota.kind.cost": "额度",
    "price.tokens": "每千 token 输入 {prompt} / 输出 {completion}",
    "price.call": "每次 {price}",
    "price.unit": "每秒或每字符 {price}",
    "price.free": "免费",
    "chat.model_prices": "价格（网关额度）：\n{prices}",
    "chat.model_mj_prices": "Midjourney：{prices}",
    "usage.today": "**今天**",
    "usage.month": "**本月**",
    "usage.nothing": "暂无。",
    "usage.command": "• /{command}：{calls} 次",
    "usage.tokens": "{tokens} token",
    "usage.units.transcribe": "{units} 秒",
    "usage.units.speak": "{units} 个字符",
    "usage.cost": "花费：{cost} 点额度",
    "usage.limits": "**每日上限**（{hours} 小时 {minutes} 分钟后重置，UTC 00:00）",
    "usage.chat_limits": "**本聊天的每日上限**（{hours} 小时 {minutes} 分钟后重置）",
    "usage.limit": "• {kind}：已用 {used} / {limit}",
    "usage.unavailable": "这个机器人不提供用量统计。",
    "stats.admins_only": "只有机器人管理员可以查看 /stats。",
    "stats.top_users": "**本月用量最多的用户**（按花费）",
    "stats.user": "• {user}：{cost} 点额度（{calls} 次付费调用）",
    "stats.errors": "**启动以来的网关错误**",
    "stats.error": "• {kind}：{count}",
    "stats.no_errors": "无。",
    "stats.pending": "进行中的 Midjourney 任务：{count}",
    "stats.cost": "花费：今天 {today} 点额度，本月 {month}",
    "settings.title": "**本聊天的设置**",
    "settings.answer.mentions": "• answer: mentions — 在群组中只回复提到我或回复我的消息",
    "settings.answer.all": "• answer: all — 在群组中回复每一条消息",
    "settings.voice.on": "• voice: on — 语音消息自动转写",
    "settings.voice.off": "• voice: off — 语音消息需要使用 /transcribe",
    "settings.context.user": "• context: user — 每位成员有自己的对话",
    "settings.context.chat": "• context: chat — 整个聊天共享一个对话",
    "settings.usage": "修改：/settings answer all|mentions、voice on|off、context user|chat。",
    "settings.admins_only": "只有机器人管理员可以修改本聊天的设置。",
    "settings.unavailable": "这个机器人无法修改设置。",
    "lang.current": "我用 {name} 回复你。可选：{languages}；/lang auto 跟随你的应用语言。",
    "lang.set": "✅ 之后我会用 {name} 回复你。",
    "lang.auto": "✅ 我会跟随你的应用语言（当前为 {name}）。",
    "lang.unknown": "我还不会 {wanted}。可选：{languages}。",
    "lang.name.en": "English",
    "lang.name.zh": "中文",
    "help.cmd.usage": "查看你今天和本月的用量及花费",
    "help.cmd.lang": "选择我回复你所用的语言",
    "help.cmd.settings": "查看或修改本聊天的设置（管理员）",
    "help.cmd.stats": "所有人的用量、错误和花费（管理员）",
}
