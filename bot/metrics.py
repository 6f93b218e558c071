"""Prometheus metrics the bot exports on `/metrics` (bot/health.py serves them).

One registry of our own, so tests and several bots in one process never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Command latency spans a cached /help (ms) to a streamed answer (a minute).
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """The bot's counters, gauges and histograms in one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "modelbridge_commands",
            "Commands and button presses handled, by command and outcome.",
            ("command", "outcome"),
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "modelbridge_command_seconds",
            "Time from a command's arrival to its end, by command.",
            ("command",),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "modelbridge_upstream_errors",
            "Errors the gateway answered (or failed with), by kind.",
            ("kind",),
            registry=self.registry,
        )
        self.pending_jobs = Gauge(
            "modelbridge_pending_mj_jobs",
            "Midjourney jobs being tracked.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "modelbridge_platform_rate_limits",
            "Rate-limit answers (429) received from a chat platform.",
            ("platform",),
            registry=self.registry,
        )
        self.store_write_seconds = Histogram(
            "modelbridge_store_write_seconds",
            "Time a store write takes, queueing included.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=self.registry,
        )

    def exposition(self) -> tuple[bytes, str]:
        """The text format Prometheus scrapes, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
