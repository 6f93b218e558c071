"""/usage: what I used today and this month, what it cost, and my daily limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.commands.registry import CommandSpec
from bot.prices import Price
from bot.quotas import DAY_S, total_amounts
from bot.replies import text_reply
from bot.services import CommandContext, UserError
from storage.usage_reports import UsageTotal


def month_start(now: float) -> float:
    """00:00 UTC on the first of the month `now` is in."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def day_start(now: float) -> float:
    return float(int(now // DAY_S) * DAY_S)


def amount(value: float) -> str:
    """A count or a cost, grouped by thousands, without a useless ".0"."""
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.2f}"


def price_text(ctx: CommandContext, price: Price) -> str:
    """A price in the user's words, only its parts that are not zero."""
    parts = []
    if price.prompt_per_1k or price.completion_per_1k:
        parts.append(ctx.t("price.tokens", prompt=amount(price.prompt_per_1k),
                           completion=amount(price.completion_per_1k)))  # fmt: skip
    if price.per_call:
        parts.append(ctx.t("price.call", price=amount(price.per_call)))
    if price.per_unit:
        parts.append(ctx.t("price.unit", price=amount(price.per_unit)))
    return ", ".join(parts) or ctx.t("price.free")


def period_lines(ctx: CommandContext, totals: list[UsageTotal]) -> list[str]:
    """One line per command (calls, tokens or units) and the period's cost."""
    if not totals:
        return [ctx.t("usage.nothing")]
    by_command: dict[str, list[UsageTotal]] = {}
    for total in totals:
        by_command.setdefault(total.command, []).append(total)
    prices = ctx.services.prices
    lines = []
    for command, rows in sorted(by_command.items()):
        calls = sum(r.calls for r in rows)
        tokens = sum(r.prompt_tokens + r.completion_tokens for r in rows)
        units = sum(r.units for r in rows)
        detail = (
            ctx.t("usage.tokens", tokens=amount(tokens)) if tokens
            else ctx.t(f"usage.units.{command}", units=amount(units))
            if ctx.services.catalog.has(ctx.language, f"usage.units.{command}") else ""
        )  # fmt: skip
        line = ctx.t("usage.command", command=command, calls=calls)
        lines.append(f"{line}{', ' + detail if detail else ''}")
    cost = total_amounts(prices, totals).get("cost", 0.0)
    lines.append(ctx.t("usage.cost", cost=amount(cost)))
    return lines


def limit_lines(
    ctx: CommandContext, title: str, limits: dict[str, float], today: list[UsageTotal], now: float
) -> list[str]:
    """Daily limits with what is used of each, and when they reset."""
    if not limits:
        return []
    used = total_amounts(ctx.services.prices, today)
    left = day_start(now) + DAY_S - now
    lines = [ctx.t(title, hours=int(left // 3600), minutes=int(left % 3600 // 60))]
    for kind, limit in limits.items():
        lines.append(ctx.t("usage.limit", kind=ctx.t(f"quota.kind.{kind}"),
                           used=amount(used.get(kind, 0.0)), limit=amount(limit)))  # fmt: skip
    return lines


async def usage_command(ctx: CommandContext) -> None:
    """Show the user their use today and this month, with its cost in the gateway's units."""
    reports = ctx.services.reports
    if reports is None:
        raise UserError("usage.unavailable")
    now = time.time()
    actor = ctx.actor
    today = await reports.of_user(actor.platform, actor.user_id, day_start(now))
    month = await reports.of_user(actor.platform, actor.user_id, month_start(now))
    lines = [ctx.t("usage.today"), *period_lines(ctx, today), ""]
    lines += [ctx.t("usage.month"), *period_lines(ctx, month)]
    settings = ctx.services.settings
    limits = limit_lines(ctx, "usage.limits", settings.user_daily_limits, today, now)
    if settings.chat_daily_limits and not ctx.chat.is_private:
        chat_today = await reports.of_chat(ctx.chat.platform, ctx.chat.chat_id, day_start(now))
        limits += limit_lines(ctx, "usage.chat_limits", settings.chat_daily_limits, chat_today, now)
    if limits:
        lines += ["", *limits]
    await ctx.reply(text_reply("\n".join(lines)))


SPEC = CommandSpec("usage", "What you used today and this month, and its cost", usage_command)
