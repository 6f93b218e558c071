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
    "chat.cut": "⚠️ _The answer was cut off: {reason}. Ask again to continue._",
    "chat.empty_answer": "_The model returned an empty answer. Please try again._",
    "chat.reset_done": "🧹 Started a new conversation. Earlier messages are forgotten.",
    "chat.model_current": "Your model: **{model}**",
    "chat.model_choices": "Available models: {models}",
    "chat.model_pick": "Pick one below or send /model <name>.",
    "chat.model_set": "✅ From now on your questions go to **{model}**.",
    "chat.model_unknown": "There is no model called {model} here. Available models: {models}",
    "chat.model_not_allowed": "{model} is not allowed on this bot. Available models: {models}",
    "chat.model_none": "No chat models are available right now.",
    # --- midjourney (/imagine, buttons, /describe, /blend, /swapface, /shorten) ----------
    "mj.bad_engine": "Unknown engine “{engine}”. Choose midjourney or dalle.",
    "mj.not_an_image": "“{name}” is not an image I can use (PNG, JPEG, GIF or WebP, please).",
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
    "mj.title.describe": "Describing your image",
    "mj.title.shorten": "Shortening: {prompt}",
    "mj.title.swapface": "Face swap",
    "mj.title.dalle": "🖌️ DALL·E 3 is drawing: {prompt}",
    "mj.progress.queued": "⏳ Waiting to start: {title}",
    "mj.progress.running": "🎨 Working on: {title}",
    "mj.done": "✅ {title}",
    "mj.failed": (
        "❌ {title}\nMidjourney could not finish this job: {reason}\n"
        "Failed jobs are refunded by the gateway."
    ),
    "mj.no_reason": "no reason given",
    "mj.deadline": (
        "⌛ {title}\nThis job did not finish within {minutes} minutes, so I stopped waiting "
        "for it. The gateway refunds jobs that never finish."
    ),
    "mj.unknown": (
        "⚠️ {title}\nI was restarted while sending this job, so I can't tell whether it reached "
        "Midjourney. I did not send it again, to avoid charging you twice; if no result turns up, "
        "run the command again."
    ),
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
    "console.waiting_for_button": "(waiting for button [{number}] to appear...)",
    "console.line_failed": "That line could not be handled; see the log.",
    "console.answer_too_long": (
        "That is too long ({length} characters; the limit is {limit}). Try again."
    ),
    "console.ask_hint": "empty line = {default}, /cancel to cancel",
    "console.ask_hint_no_default": "/cancel to cancel",
    "console.ask_cancelled": "Cancelled.",
    "console.still_running": (
        "Stopped waiting: {count} job(s) still running; they resume on the next start."
    ),
    "console.image": "[image]",
    "console.preview": "[preview]",
    "console.audio": "[audio]",
    "console.file": "[file]",
    # --- help ------------------------------------------------------------------------------
    "help.intro": "Hi! I bring an AI gateway into this chat. Commands:",
    "help.footer": (
        "Send a voice note and I'll transcribe it; in a private chat any text goes to /ask. "
        "Buttons under Midjourney images work for the person who started the job."
    ),
    "help.cmd.help": "Show this help",
}
