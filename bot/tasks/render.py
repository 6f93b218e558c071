"""How a job looks in the chat: progress states and the final message, built from its record."""

from __future__ import annotations

import re

from bot.media import sniff_image
from bot.replies import Button, Image, Progress, Reply, Text, text_reply
from bot.services import Services
from bot.tasks.layout import Wanted, arrange, issue_rows, upstream_wanted
from storage.base import JobRecord, JobStatus

# Kinds whose result is one or four pictures that Midjourney can act on further.
IMAGE_KINDS = frozenset({"imagine", "action", "blend", "modal"})
TITLE_LIMIT = 200

_KEYCAP = re.compile(r"([1-9])\ufe0f?\u20e3")
_NUMBERED = re.compile(r"^\s*(?:[1-9]\ufe0f?\u20e3|[1-9][.)]|[-*•])\s*(?P<text>.+?)\s*$")
_SHORTENED = re.compile(r"shortened prompts?\s*:?", re.IGNORECASE)


def _clip(text: str, limit: int = TITLE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def title(services: Services, language: str, job: JobRecord) -> str:
    """A one-line name for the job, used in progress and result messages."""
    t = services.catalog.t
    prompt = _clip(job.prompt)
    if job.kind == "action":
        return t(language, "mj.title.action", label=job.result.get("label", ""), prompt=prompt)
    if job.kind == "blend":
        return t(language, "mj.title.blend", count=job.result.get("count", 2))
    if job.kind in ("describe", "swapface"):
        return t(language, f"mj.title.{job.kind}")
    if job.kind == "shorten":
        return t(language, "mj.title.shorten", prompt=prompt)
    return t(language, "mj.title.imagine", prompt=prompt)


def progress_state(
    services: Services, language: str, job: JobRecord, percent: int | None, preview: Image | None
) -> Progress:
    """The progress message for a job that has not finished."""
    key = "mj.progress.running" if percent else "mj.progress.queued"
    text = services.catalog.t(language, key, title=title(services, language, job))
    return Progress(text=text, percent=percent, preview=preview)


async def fetch_image(services: Services, url: str, name: str, *, urgent: bool = False) -> Image:
    """Download an upstream image once (CDN links expire) as bytes to re-upload.

    `urgent` for finished results: they go ahead of a burst of submits and previews.
    """
    got = await services.client.download(url, urgent=urgent)
    mime = sniff_image(got.data) or got.content_type.split(";")[0].strip() or "image/png"
    extension = mime.rsplit("/", 1)[-1].replace("jpeg", "jpg")
    return Image(got.data, mime=mime, filename=f"{name}.{extension}")


def describe_prompts(text: str) -> list[str]:
    """The prompts of a describe result: `1️⃣ …\\n\\n2️⃣ …`; blank-line paragraphs otherwise."""
    marks = list(_KEYCAP.finditer(text))
    if marks:
        ends = [m.start() for m in marks[1:]] + [len(text)]
        found = [text[m.end() : end].strip() for m, end in zip(marks, ends, strict=True)]
    else:
        found = [part.strip() for part in re.split(r"\n\s*\n", text)]
    return [p for p in found if p]


def shorten_prompts(text: str) -> list[str]:
    """The options listed after "Shortened prompts" in a shorten result."""
    match = _SHORTENED.search(text)
    body = text[match.end() :] if match else text
    options: list[str] = []
    for line in body.splitlines():
        numbered = _NUMBERED.match(line)
        if numbered:
            options.append(numbered["text"].replace("**", "").strip())
    if not options and match:
        options = [line.strip() for line in body.splitlines() if line.strip()]
    return [o for o in options if o][:5]


async def _prompt_list(
    services: Services, language: str, job: JobRecord, key: str, prompts: list[str]
) -> Reply:
    if not prompts:
        return text_reply(services.catalog.t(language, "mj.no_prompts"))
    keycaps = [f"{n}\ufe0f\u20e3" for n in range(1, 10)]
    listing = "\n\n".join(f"{keycaps[i]} {p}" for i, p in enumerate(prompts))
    label = services.catalog.t
    wanted = [
        Wanted("imagine", p, label(language, "mj.button.imagine_n", n=i + 1), "🎨")
        for i, p in enumerate(prompts)
    ]
    rows = await issue_rows(services, job, [wanted[i : i + 5] for i in range(0, len(wanted), 5)])
    return text_reply(services.catalog.t(language, key, prompts=listing), rows)


async def image_rows(
    services: Services, language: str, job: JobRecord, has_image: bool
) -> tuple[tuple[Button, ...], ...]:
    """The button rows under an image result: the upstream's buttons, then 🌱 Seed."""
    if job.kind not in IMAGE_KINDS:
        return ()
    wanted = upstream_wanted(job.buttons)
    if not wanted and not has_image:
        return ()
    seed = Wanted(
        "seed", job.upstream_id or "", services.catalog.t(language, "mj.button.seed"), "🌱"
    )
    return await issue_rows(services, job, arrange(wanted, [seed]))


async def final_reply(
    services: Services,
    language: str,
    job: JobRecord,
    image: Image | None = None,
    rows: tuple[tuple[Button, ...], ...] | None = None,
) -> Reply:
    """The message that ends a job, from its record; downloads the image and issues the
    button tokens unless they are given."""
    t = services.catalog.t
    name = title(services, language, job)
    if job.status == JobStatus.UNKNOWN:
        return text_reply(t(language, "mj.unknown", title=name))
    if job.status == JobStatus.FAILURE:
        if job.result.get("deadline"):
            minutes = max(1, round(services.settings.mj_task_deadline_s / 60))
            return text_reply(t(language, "mj.deadline", title=name, minutes=minutes))
        reason = job.fail_reason or t(language, "mj.no_reason")
        return text_reply(t(language, "mj.failed", title=name, reason=reason))
    final_text = str(job.result.get("final_prompt", "") or "")
    if job.kind == "describe":
        return await _prompt_list(
            services, language, job, "mj.describe.result", describe_prompts(final_text)
        )
    if job.kind == "shorten":
        text = final_text or str(job.result.get("description", ""))
        prompts = shorten_prompts(text)
        return await _prompt_list(services, language, job, "mj.shorten.result", prompts)
    if image is None and job.image_url:
        image = await fetch_image(services, job.image_url, f"mj_{job.upstream_id}")
    if rows is None:
        rows = await image_rows(services, language, job, image is not None)
    parts: tuple[Text | Image, ...] = (Text(t(language, "mj.done", title=name)),)
    if image is not None:
        parts = (image, *parts)
    return Reply(parts=parts, buttons=rows)
