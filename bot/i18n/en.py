"""English messages: the reference catalog every other language follows."""

MESSAGES: dict[str, str] = {
    # --- common -------------------------------------------------------------------------
    "error.generic": "Something went wrong on our side. Please try again in a moment.",
    "error.denied": "You can't use this command: {reason}",
    "error.upstream": "⚠️ {message}",
    "command.unknown": "Unknown command /{command}. Type /help to see what I can do.",
    "button.unknown": "This button has expired or is no longer valid.",
    "button.not_yours": "Only the person who started this job can use its buttons.",
    "text.expired": "This request has expired; press the button again.",
    "text.not_yours": "Only the person who pressed the button can answer this.",
    "input.empty_prompt": "Please add a prompt after /{command}.",
    "input.too_long": "That is too long ({length} characters; the limit is {limit}).",
    "input.ignored": "I ignored {names}: /{command} uses only {kinds}.",
    "input.ignored_all": "I ignored {names}: /{command} does not use attachments.",
    "input.kind.image": "images",
    "input.kind.audio": "audio",
    "input.request_too_big": (
        "Together these files make a request of {size_mb} MB, and the AI service takes at most "
        "{limit_mb} MB. Send fewer or smaller files."
    ),
    # --- upstream errors: what each UpstreamError class says (bot/upstream/errors.py) ------
    "upstream.failed": "The AI service failed. Please try again later.",
    "upstream.authentication": (
        "The bot's access to the AI service is not working. Tell the admin."
    ),
    "upstream.permission": "The bot is not allowed to use this model or feature.",
    "upstream.quota": "The AI service balance is used up. Tell the admin.",
    "upstream.rate_limited": "The AI service is busy. Please try again in a minute.",
    "upstream.invalid_request": "The AI service rejected this request.",
    "upstream.not_found": "That task or model was not found (it may have expired).",
    "upstream.task_not_ready": "That image is not finished yet.",
    "upstream.server_error": "The AI service had an internal error. Please try again later.",
    "upstream.not_supported": "The AI service does not support this feature.",
    "upstream.bad_response": "The AI service sent an answer the bot could not read.",
    "upstream.timeout": "The AI service took too long to answer. Please try again.",
    "upstream.connection_failed": (
        "The AI service is unreachable right now. Please try again later."
    ),
    "upstream.stream_interrupted": "The answer was cut off.",
    "upstream.mj_rejected": "Midjourney refused this job.",
    "upstream.banned_prompt": "Midjourney does not allow this prompt.",
    "upstream.banned_word": "Midjourney does not allow this prompt (word: {word}).",
    "upstream.queue_full": "Midjourney's queue is full. Please try again in a few minutes.",
    "upstream.model_not_available": "That model is not available here.",
    "upstream.model_named": "The model {model} is not available here.",
    "upstream.not_offered": "This gateway does not offer that feature.",
    "upstream.destination_refused": "That link can't be fetched.",
    "upstream.maybe_charged": (
        "The connection broke after the request was sent, so it may have gone through and "
        "been charged. I did not send it again; if you repeat it, it may be charged twice."
    ),
    # --- what this gateway offers (bot/offers.py) -------------------------------------------
    "gateway.missing": "This gateway has no {feature}.",
    "gateway.missing_instead": "This gateway has no {feature}; {alternative} works here.",
    "gateway.feature.midjourney": "Midjourney",
    "gateway.feature.chat": "chat model",
    "gateway.feature.image": "image model",
    "gateway.feature.speech": "speech model",
    "gateway.feature.transcription": "transcription model",
    # --- chat (/ask, /model, /reset) ------------------------------------------------------
    "chat.thinking": "…",
    "chat.image_default_prompt": "What is in this picture?",
    "chat.image_too_big": "That image is too large ({size} MB; the limit is {limit} MB).",
    "chat.no_vision": (
        "{model} can't look at images, and no image-capable model is available. "
        "Send your question as text, or ask an admin to allow a vision model."
    ),
    "chat.vision_switched": "_{model} can't see images, so {vision} answered this one._",
    "chat.too_long": (
        "Your message is too long for {model}: about {tokens} tokens, and at most {limit} fit. "
        "Please shorten it or send it in parts."
    ),
    "chat.cut": "⚠️ _The answer was cut off. Ask again to continue._",
    "chat.empty_answer": "_The model returned an empty answer. Please try again._",
    "chat.reset_done": "🧹 Started a new conversation. Earlier messages are forgotten.",
    "chat.model_current": "Your model: **{model}**",
    "chat.model_choices": "Available models: {models}",
    "chat.model_pick": "Pick one below or send /model <name>.",
    "chat.model_set": "✅ From now on your questions go to **{model}**.",
    "chat.model_unknown": "There is no model called {model} here. Available models: {models}",
    "chat.model_not_allowed": "{model} is not allowed on this bot. Available models: {models}",
    "chat.model_none": "No chat models are available right now.",
    "chat.model_gone": "Send /model to choose another one.",
    # --- midjourney (/imagine, buttons, /describe, /blend, /swapface, /shorten) ----------
    "mj.bad_engine": "Unknown engine “{engine}”. Choose midjourney or dalle.",
    "mj.not_an_image": "“{name}” is not an image I can use (PNG, JPEG, GIF or WebP, please).",
    "mj.image_broken": "“{name}” is damaged or cut off; please send it again.",
    "mj.image_too_many_pixels": (
        "“{name}” has {megapixels} megapixels, more than I can take ({limit} at most)."
    ),
    "mj.image_too_big": "“{name}” is too big ({size_mb} MB; the limit is {limit_mb} MB).",
    "mj.too_many_images": "/{command} takes at most {limit} image(s); you sent {count}.",
    "mj.dalle_no_images": (
        "DALL·E 3 draws from the prompt alone; reference images need engine midjourney."
    ),
    "mj.describe_needs_image": "Attach the image you want described to /describe.",
    "mj.blend_count": "/blend needs 2 to 5 images; you sent {count}.",
    "mj.blend_bad_dimensions": (
        "Dimensions must be portrait, square or landscape (not “{dimensions}”)."
    ),
    "mj.swapface_count": (
        "/swapface needs exactly two images: first the face, then the picture to put it on "
        "(you sent {count})."
    ),
    "mj.title.imagine": "{prompt}",
    "mj.title.action": "{label} · {prompt}",
    "mj.title.blend": "Blend of {count} images",
    "mj.title.describe": "Description of your image",
    "mj.title.shorten": "Shorter prompts for “{prompt}”",
    "mj.title.swapface": "Face swap",
    "mj.title.dalle": "🖌️ DALL·E 3 is drawing: {prompt}",
    "mj.progress.queued": "⏳ Waiting to start: {title}",
    "mj.progress.running": "🎨 Working on: {title}",
    "mj.done": "✅ {title}",
    "mj.failed": (
        "❌ {title}\nMidjourney could not finish this job. Reason: {reason}\n"
        "Failed jobs are refunded by the gateway."
    ),
    "mj.no_reason": "unknown",
    "mj.deadline": (
        "⌛ {title}\nThis job did not finish within {minutes} minutes, so I stopped waiting "
        "for it. The gateway refunds jobs that never finish."
    ),
    "mj.unknown": (
        "⚠️ {title}\nI was restarted while sending this job, so I can't tell whether it reached "
        "Midjourney. I did not send it again, to avoid charging you twice; if it turns up, its "
        "result appears here, and /jobs shows where it stands."
    ),
    "mj.maybe_charged": (
        "The connection to Midjourney broke after the job was sent, so it may have been created "
        "and charged. I did not send it again: /jobs lists it as unknown, and if it turns up, "
        "its result appears here."
    ),
    "mj.unknown_unfindable": (
        "⚠️ {title}\nI could not find this job among the gateway's recent tasks, so I can't tell "
        "whether it reached Midjourney. Look for it in your gateway account's task log (or ask "
        "the admin) before you run it again, so that it is not charged twice."
    ),
    "mj.repeat.running": (
        "⏳ {title}\nThis is already running for this image; its result will appear here."
    ),
    "mj.repeat.unknown": (
        "⚠️ {title}\nThis was sent for this image before, but I could not tell whether it "
        "reached Midjourney (see /jobs). Press Again only if you want to pay for it once more."
    ),
    "mj.button.again": "Again",
    "jobs.title": "Your recent jobs:",
    "jobs.none": "You have no Midjourney jobs yet.",
    "jobs.line": "{status} · {title} · {when}",
    "jobs.status.submitting": "📤 sending",
    "jobs.status.pending": "⏳ running",
    "jobs.status.modal": "✏️ waiting for your prompt",
    "jobs.status.success": "✅ done",
    "jobs.status.failure": "❌ failed",
    "jobs.status.unknown": "❔ unknown (may have been charged)",
    "mj.describe.result": "🔎 Prompts for your image:\n\n{prompts}",
    "mj.shorten.result": "✂️ Shorter prompts:\n\n{prompts}",
    "mj.no_prompts": "Midjourney sent back no prompts this time.",
    "mj.button.imagine_n": "Imagine {n}",
    "mj.button.seed": "Seed",
    "mj.seed": (
        "🌱 Seed of this image: {seed}\nAdd --seed {seed} to a prompt to get similar results."
    ),
    "mj.button.remix": "Write the prompt",
    "mj.remix.ask": "{title}\n\nMidjourney waits for your prompt (Remix): press ✏️ to write it.",
    "mj.remix.sent": "The prompt for this job was already sent.",
    "mj.remix.closed": "This job no longer waits for a prompt.",
    "mj.job_gone": "I no longer know the image behind this button; run the command again.",
    "mj.dalle.done": "🖼️ {prompt}",
    "mj.modal.title.inpaint": "Vary (Region)",
    "mj.modal.title.zoom": "Custom Zoom",
    "mj.modal.title.remix": "Remix prompt",
    "mj.modal.label": "Prompt",
    "mj.modal.placeholder.inpaint": "What should appear in the centre of the image",
    "mj.modal.placeholder.zoom": "The prompt, with --zoom between 1 and 2",
    "mj.modal.placeholder.remix": "The prompt for the new images",
    "mj.modal.cancelled": "Cancelled — nothing was sent to Midjourney.",
    # --- audio (/transcribe, /speak) -------------------------------------------------------
    "audio.missing": "Please attach a voice message or an audio file to /transcribe.",
    "audio.not_audio": (
        "That file is not audio I can read (send Ogg/Opus, MP3, WAV, FLAC, M4A or WebM)."
    ),
    "audio.too_big": "That audio is too large ({size} MB; the limit is {limit} MB).",
    "audio.no_speech": "I couldn't hear any speech in that recording.",
    "audio.transcript": "📝 {text}",
    "audio.transcript_long": (
        "📝 {text}\n\n_The whole transcript ({length} characters) is attached._"
    ),
    "audio.speak_empty": "Please add the text to read aloud after /speak.",
    "audio.bad_voice": "Unknown voice {voice}. Choose one of: {voices}",
    # --- console adapter (its own framing: files, options, button numbers) ---------------
    "console.no_such_file": "No such file: {path} (attach files as @path/to/file)",
    "console.not_a_file": "Not a file: {path}",
    "console.file_too_big": "{path} is too big to attach ({size} MiB; the limit is {limit} MiB)",
    "console.unreadable_file": "Could not read {path}: {reason}",
    "console.option_needs_value": "Option {name}: needs a value, e.g. {name}:{example}",
    "console.option_bad_choice": "Option {name}: '{value}' is not one of {choices}",
    "console.option_bad_flag": "Option {name}: '{value}' is not yes or no",
    "console.press_usage": "Usage: /press <number> (or just the number)",
    "console.nothing_to_cancel": "Nothing to cancel.",
    "console.no_such_button": "There is no button [{number}].",
    "console.waiting_for_button": "(waiting for button [{number}] to appear…)",
    "console.line_failed": "That line could not be handled; see the log.",
    "console.answer_too_long": (
        "That is too long ({length} characters; the limit is {limit}). Try again."
    ),
    "console.ask_hint": "empty line = {default}, /cancel to cancel",
    "console.ask_hint_no_default": "/cancel to cancel",
    "console.ask_cancelled": "Cancelled.",
    "console.waiting_for_jobs": (
        "Waiting for {count} running job(s) to finish (Ctrl-C leaves now; they resume on the"
        " next start)…"
    ),
    "console.still_running": (
        "Stopped waiting: {count} job(s) still running; they resume on the next start."
    ),
    "console.image": "[image]",
    "console.preview": "[preview]",
    "console.audio": "[audio]",
    "console.file": "[file]",
    # --- help ------------------------------------------------------------------------------
    "help.intro": "Hi! I bring an AI gateway into this chat. Commands:",
    # The footer's sentences, each shown when this gateway offers what it speaks of.
    "help.footer.voice": "Send a voice note and I'll transcribe it.",
    "help.footer.private": "In a private chat any text goes to /ask.",
    "help.footer.buttons": (
        "Buttons under Midjourney images work for the person who started the job."
    ),
    "help.cmd.ask": "Ask the AI; attach a picture to ask about it",
    "help.cmd.reset": "Forget our conversation and start a new one",
    "help.cmd.model": "Show or choose the AI model for your questions",
    "help.cmd.imagine": "Create images with Midjourney (or DALL·E 3) from a prompt",
    "help.cmd.describe": "Get four Midjourney prompts that describe an image",
    "help.cmd.blend": "Blend 2 to 5 images into new ones with Midjourney",
    "help.cmd.swapface": "Put the face from the first image onto the second",
    "help.cmd.shorten": "Get shorter versions of a Midjourney prompt",
    "help.cmd.transcribe": "Turn a voice message or audio file into text",
    "help.cmd.speak": "Read text aloud as a voice message",
    "help.cmd.jobs": "List your recent Midjourney jobs and where they stand",
    "help.cmd.help": "Show this help",
    # --- access, quotas, usage, settings, language (/usage, /stats, /settings, /lang) -------
    "bot.stopping": "The bot is restarting. Please try again in a minute.",
    "policy.user_not_allowed": "this bot is only open to users the operator allowed.",
    "policy.chat_not_allowed": "this bot is not enabled in this chat.",
    "policy.guild_not_allowed": "this bot is not enabled on this server.",
    "quota.user": (
        "you reached your daily limit of {limit} {kind} (used {used}). "
        "It resets in {hours} h {minutes} min (00:00 UTC)."
    ),
    "quota.chat": (
        "this chat reached its daily limit of {limit} {kind} (used {used}). "
        "It resets in {hours} h {minutes} min (00:00 UTC)."
    ),
    "quota.kind.chat_tokens": "chat tokens",
    "quota.kind.mj_jobs": "Midjourney jobs",
    "quota.kind.mj_actions": "Midjourney button actions",
    "quota.kind.images": "images",
    "quota.kind.transcribe_seconds": "seconds of transcription",
    "quota.kind.speech_chars": "characters of speech",
    "quota.kind.cost": "credits",
    "price.tokens": "{prompt} in / {completion} out per 1K tokens",
    "price.call": "{price} per call",
    "price.unit": "{price} per second or character",
    "price.free": "free",
    "chat.model_prices": "Prices (gateway credits):\n{prices}",
    "chat.model_mj_prices": "Midjourney: {prices}",
    "usage.today": "**Today**",
    "usage.month": "**This month**",
    "usage.nothing": "Nothing yet.",
    "usage.command": "• /{command}: {calls}×",
    "usage.tokens": "{tokens} tokens",
    "usage.units.transcribe": "{units} seconds",
    "usage.units.speak": "{units} characters",
    "usage.cost": "Cost: {cost} credits",
    "usage.limits": "**Daily limits** (reset in {hours} h {minutes} min, 00:00 UTC)",
    "usage.chat_limits": "**This chat's daily limits** (reset in {hours} h {minutes} min)",
    "usage.limit": "• {kind}: {used} of {limit}",
    "usage.unavailable": "Usage is not available on this bot.",
    "stats.admins_only": "Only the bot's admins can see /stats.",
    "stats.top_users": "**Top users this month** (by cost)",
    "stats.user": "• {user}: {cost} credits ({calls} paid calls)",
    "stats.errors": "**Gateway errors since start**",
    "stats.error": "• {kind}: {count}",
    "stats.no_errors": "None.",
    "stats.pending": "Midjourney jobs in progress: {count}",
    "stats.cost": "Cost: {today} credits today, {month} this month",
    "settings.title": "**Settings of this chat**",
    "settings.answer.mentions": (
        "• answer: mentions — in groups I answer mentions and replies to me"
    ),
    "settings.answer.all": "• answer: all — in groups I answer every message",
    "settings.voice.on": "• voice: on — voice messages are transcribed on their own",
    "settings.voice.off": "• voice: off — voice messages need /transcribe",
    "settings.context.user": "• context: user — each member has their own conversation",
    "settings.context.chat": "• context: chat — the whole chat shares one conversation",
    "settings.usage": "Change with /settings answer all|mentions, voice on|off, context user|chat.",
    "settings.admins_only": "Only the bot's admins can change this chat's settings.",
    "settings.unavailable": "Settings can't be changed on this bot.",
    "lang.current": (
        "I answer you in {name}. Available: {languages}; /lang auto follows your app."
    ),
    "lang.set": "✅ I'll answer you in {name} from now on.",
    "lang.auto": "✅ I'll follow your app's language ({name} now).",
    "lang.unknown": "I don't speak {wanted} yet. Available: {languages}.",
    "lang.name.en": "English",
    "lang.name.zh": "中文",
    "help.cmd.usage": "What you used today and this month, and its cost",
    "help.cmd.lang": "Choose the language I answer you in",
    "help.cmd.settings": "Show or change this chat's settings (admins)",
    "help.cmd.stats": "Usage, errors and costs of everyone (admins)",
}
