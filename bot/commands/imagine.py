"""/imagine with Midjourney (niji, reference images) or DALL·E 3, and the "Imagine" buttons."""

from __future__ import annotations

import base64
import binascii

from bot.commands.registry import CommandSpec, Param
from bot.policy import Cost
from bot.replies import Image, Progress, Reply, Text
from bot.services import CommandContext, UserError
from bot.tasks.flow import replace_text, run_job
from bot.tasks.inputs import image_data_urls, is_set, prompt_of
from bot.tasks.jobs import new_job
from bot.tasks.render import fetch_image
from bot.upstream import BadResponse, UpstreamError
from bot.usage import record_usage, usage_event
from storage.base import ButtonAction

MAX_REFERENCES = 3
ENGINES = {
    "midjourney": "midjourney",
    "mj": "midjourney",
    "dalle": "dalle",
    "dall-e": "dalle",
    "dall-e-3": "dalle",
    "dalle3": "dalle",
}


async def imagine_command(ctx: CommandContext) -> None:
    """Parse the options and hand the prompt to the chosen engine."""
    options = ctx.request.options
    engine_name = (options.get("engine") or "midjourney").strip().lower()
    engine = ENGINES.get(engine_name)
    if engine is None:
        raise UserError("mj.bad_engine", engine=engine_name)
    prompt = prompt_of(ctx.request.text, "imagine")
    attachments = ctx.request.attachments
    if engine == "dalle":
        if attachments:
            raise UserError("mj.dalle_no_images")
        await run_dalle(ctx, prompt)
        return
    if len(attachments) > MAX_REFERENCES:
        raise UserError(
            "mj.too_many_images", command="imagine", limit=MAX_REFERENCES, count=len(attachments)
        )
    await run_imagine(ctx, prompt, image_data_urls(attachments), niji=is_set(options.get("niji")))


async def run_imagine(
    ctx: CommandContext, prompt: str, images: list[str] | None = None, *, niji: bool = False
) -> None:
    """The one /imagine path (commands and "Imagine" buttons): record, submit, track."""
    job = new_job(ctx.chat, ctx.actor.user_id, "imagine", prompt)
    bot_type = "NIJI_JOURNEY" if niji else "MID_JOURNEY"
    await run_job(
        ctx,
        job,
        lambda: ctx.services.client.mj_imagine(prompt, images=images or (), bot_type=bot_type),
        command="imagine",
    )


async def run_dalle(ctx: CommandContext, prompt: str) -> None:
    """One DALL·E 3 image, re-uploaded as bytes with the prompt the model actually used."""
    services = ctx.services
    await ctx.check_policy(Cost("image", 1), command="imagine")
    waiting = await ctx.channel.progress(
        None, ctx.chat, Progress(ctx.t("mj.title.dalle", prompt=prompt[:200]))
    )
    try:
        images = await services.client.create_image(prompt, model=services.settings.dalle_model)
    except UpstreamError as exc:
        # The "drawing" message becomes the error, rather than staying behind.
        await replace_text(ctx.channel, waiting, ctx.t("error.upstream", message=exc.user_message))
        return
    if not images:
        raise BadResponse("no image in the answer")
    first = images[0]
    if first.b64_json:
        try:
            picture = Image(base64.b64decode(first.b64_json), filename="dalle.png")
        except (binascii.Error, ValueError) as exc:
            raise BadResponse("bad base64 image") from exc
    elif first.url:
        picture = await fetch_image(services, first.url, "dalle")
    else:
        raise BadResponse("image without url or data")
    event = usage_event(ctx.actor, ctx.chat, "imagine", services.settings.dalle_model, units=1)
    await record_usage(services, event)
    caption = ctx.t("mj.dalle.done", prompt=first.revised_prompt or prompt)
    reply = Reply(parts=(picture, Text(caption)))
    try:
        await ctx.channel.edit(waiting, reply)
    except Exception:
        await ctx.reply(reply)


async def press_imagine(ctx: CommandContext, action: ButtonAction) -> None:
    """An "Imagine" button under /describe or /shorten results: /imagine its prompt."""
    await run_imagine(ctx, prompt_of(action.payload, "imagine"))


SPEC = CommandSpec(
    "imagine",
    "Create images with Midjourney (or DALL·E 3) from a prompt",
    imagine_command,
    params=(
        Param(
            "prompt",
            "text",
            "What to draw, with Midjourney parameters like --ar 16:9",
            required=True,
        ),
        Param("reference", "image", "Reference images", count=MAX_REFERENCES),
        Param("niji", "flag", "Use the niji (anime) model"),
        Param("engine", "choice", "Image engine", choices=("midjourney", "dalle")),
    ),
)
