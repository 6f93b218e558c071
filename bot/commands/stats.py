"""/stats (admins): top users this month, upstream errors by kind, pending jobs, cost."""

from __future__ import annotations

import time

from bot.commands.registry import CommandSpec
from bot.commands.usage import amount, day_start, month_start
from bot.quotas import total_amounts
from bot.replies import text_reply
from bot.services import CommandContext, UserError
from storage.base import JobStatus
from storage.usage_reports import UsageTotal

TOP_USERS = 10
WAITING = [JobStatus.SUBMITTING, JobStatus.PENDING, JobStatus.MODAL]


def _cost_by_user(ctx: CommandContext, totals: list[UsageTotal]) -> list[tuple[str, float, int]]:
    grouped: dict[str, list[UsageTotal]] = {}
    for total in totals:
        grouped.setdefault(total.user, []).append(total)
    prices = ctx.services.prices
    rows = [
        (user, total_amounts(prices, rows).get("cost", 0.0), sum(r.calls for r in rows))
        for user, rows in grouped.items()
    ]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _errors(ctx: CommandContext) -> list[str]:
    counts: dict[str, float] = {}
    for family in ctx.services.metrics.upstream_errors.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.value:
                counts[sample.labels["kind"]] = sample.value
    if not counts:
        return [ctx.t("stats.no_errors")]
    ordered = sorted(counts.items(), key=lambda item: -item[1])
    return [ctx.t("stats.error", kind=kind, count=int(n)) for kind, n in ordered]


async def stats_command(ctx: CommandContext) -> None:
    """The operator's overview; admins only."""
    services = ctx.services
    if not services.is_admin(ctx.actor):
        raise UserError("stats.admins_only")
    if services.reports is None:
        raise UserError("usage.unavailable")
    now = time.time()
    month = _cost_by_user(ctx, await services.reports.by_user(month_start(now)))
    today = _cost_by_user(ctx, await services.reports.by_user(day_start(now)))
    pending = await services.store.list_jobs(WAITING)
    lines = [ctx.t("stats.top_users")]
    lines += [
        ctx.t("stats.user", user=user, cost=amount(cost), calls=calls)
        for user, cost, calls in month[:TOP_USERS]
    ] or [ctx.t("usage.nothing")]
    lines += ["", ctx.t("stats.errors"), *_errors(ctx), ""]
    lines.append(ctx.t("stats.pending", count=len(pending)))
    lines.append(ctx.t("stats.cost", today=amount(sum(r[1] for r in today)),
                       month=amount(sum(r[1] for r in month))))  # fmt: skip
    await ctx.reply(text_reply("\n".join(lines)))


SPEC = CommandSpec("stats", "Usage, errors and costs of everyone (admins)", stats_command)
