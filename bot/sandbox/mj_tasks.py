"""The MJ task store and its lazy lifecycle: state is computed from elapsed scenario time."""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.clock import SimClock
from bot.sandbox.mj_buttons import (
    Button,
    describe_buttons,
    grid_buttons,
    mj_version,
    shorten_buttons,
    upscale_buttons,
)

# Scenario seconds after (re)start: the gateway first sees SUBMITTED, then IN_PROGRESS.
T_DISPATCH = 2.0
T_PROGRESS = 4.0
# Scenario seconds from dispatch to SUCCESS, by kind of result.
RUN_SECONDS = {"grid": 30.0, "upscale": 8.0, "describe": 6.0, "shorten": 6.0, "swap": 12.0}
GATEWAY_DEADLINE = 3600.0
# new-api refreshes every unfinished task from upstream this often (upstream-api.md §11.2).
GATEWAY_REFRESH_S = 15.0
DEADLINE_REASON = "上游任务超时（超过1小时）"
FAILURE_REASON = "[Job failed] the sandbox injected the mj_failure fault"
PROGRESS_STEPS = ("15%", "31%", "46%", "62%", "78%", "93%")
STUCK_PROGRESS = "46%"
RUNNING = frozenset({"", "SUBMITTED", "IN_PROGRESS"})
FINISHED = frozenset({"SUCCESS", "FAILURE"})

_ASPECT = re.compile(r"--(?:ar|aspect)\s+(\d{1,3})\s*:\s*(\d{1,3})")


def aspect_of(prompt: str) -> tuple[int, int]:
    """The `--ar W:H` of a prompt (1:1 when absent or silly)."""
    match = _ASPECT.search(prompt)
    if match is None:
        return 1, 1
    width, height = int(match[1]), int(match[2])
    if width <= 0 or height <= 0 or max(width / height, height / width) > 4:
        return 1, 1
    return width, height


@dataclass(slots=True)
class Upload:
    """An image given to describe/blend/swap, served back as the describe result."""

    data: bytes
    mime: str


@dataclass(slots=True)
class Task:
    """One MJ job as the gateway stores it, plus what the sandbox needs to play its lifecycle."""

    id: str
    owner: str
    action: str
    kind: str
    prompt: str
    submitted_at: float
    run_from: float
    description: str = "提交成功"
    prompt_en: str = ""
    final_prompt: str = ""
    state: str = ""
    fault: str | None = None
    waiting_modal: bool = False
    aspect: tuple[int, int] = (1, 1)
    tile: int = 1
    parent_id: str = ""
    job_hash: str = field(default_factory=lambda: str(uuid.uuid4()))
    uploads: list[Upload] = field(default_factory=list)
    seed: str = ""
    # The final image and preview, each drawn once (see bot.sandbox.mj_images), and the
    # prompt/aspect they show.
    drawings: dict[str, asyncio.Future[bytes]] = field(default_factory=dict)
    drawing_key: tuple[str, tuple[int, int]] | None = None

    @property
    def run_seconds(self) -> float:
        """Scenario seconds from dispatch to success."""
        return RUN_SECONDS[self.kind]


@dataclass(frozen=True, slots=True)
class Phase:
    """Where a task is at one instant."""

    status: str
    progress: str
    start_at: float | None = None
    finish_at: float | None = None
    fail_reason: str = ""


def phase_of(task: Task, now: float) -> Phase:
    """The task's lifecycle position at scenario time `now`."""
    deadline = task.submitted_at + GATEWAY_DEADLINE
    if task.waiting_modal:
        if now >= deadline:
            return Phase("FAILURE", "100%", None, deadline, DEADLINE_REASON)
        return Phase("MODAL", "0%")
    elapsed = now - task.run_from
    start = task.run_from + T_DISPATCH
    done = start + task.run_seconds
    fail_at = task.run_from + T_PROGRESS + (done - task.run_from - T_PROGRESS) / 3
    if task.fault == "mj_failure" and now >= fail_at:
        return Phase("FAILURE", "100%", start, fail_at, FAILURE_REASON)
    if task.fault == "stuck" or now < done:
        if now >= deadline:
            return Phase("FAILURE", "100%", start, deadline, DEADLINE_REASON)
        if elapsed < T_DISPATCH:
            return Phase("", "0%")
        if elapsed < T_PROGRESS:
            return Phase("SUBMITTED", "0%", start)
        if task.fault == "stuck":
            return Phase("IN_PROGRESS", STUCK_PROGRESS, start)
        share = (now - task.run_from - T_PROGRESS) / (done - task.run_from - T_PROGRESS)
        step = min(len(PROGRESS_STEPS) - 1, max(0, math.floor(share * len(PROGRESS_STEPS))))
        return Phase("IN_PROGRESS", PROGRESS_STEPS[step], start)
    return Phase("SUCCESS", "100%", start, done)


def buttons_for(task: Task) -> list[Button]:
    """The buttons a task shows once it succeeded."""
    if task.kind == "grid":
        return grid_buttons(task.job_hash)
    if task.kind == "upscale":
        return upscale_buttons(task.job_hash, mj_version(task.final_prompt or task.prompt_en))
    if task.kind == "describe":
        return describe_buttons()
    if task.kind == "shorten":
        return shorten_buttons()
    return []


def image_path(task: Task, phase: Phase, base_url: str) -> str:
    """imageUrl as new-api rewrites it: its own /mj/image/<id>, `?rand=` until SUCCESS."""
    if phase.status == "SUCCESS":
        return "" if task.kind == "shorten" else f"{base_url}/mj/image/{task.id}"
    if phase.status == "IN_PROGRESS" and task.kind in ("grid", "upscale", "swap"):
        return f"{base_url}/mj/image/{task.id}?rand={time.time_ns()}"
    return ""


def task_view(task: Task, store: TaskStore, base_url: str) -> dict[str, Any]:
    """The gateway's task object (§9.2), keys in the documented order."""
    clock = store.clock
    phase = store.phase(task)
    polled = phase.status != ""
    properties: dict[str, Any] | None = None
    if polled:
        properties = {"finalPrompt": task.final_prompt or task.prompt_en, "finalZhPrompt": ""}
    buttons: list[Button] | None = buttons_for(task) if phase.status == "SUCCESS" else None
    return {
        "id": task.id,
        "action": task.action,
        "customId": "",
        "botType": "",
        "prompt": task.prompt,
        "promptEn": task.prompt_en if polled else "",
        "description": task.description,
        "state": task.state,
        "submitTime": clock.epoch_ms(task.submitted_at),
        "startTime": clock.epoch_ms(phase.start_at) if phase.start_at is not None else 0,
        "finishTime": clock.epoch_ms(phase.finish_at) if phase.finish_at is not None else 0,
        "imageUrl": image_path(task, phase, base_url),
        "status": phase.status,
        "progress": phase.progress,
        "failReason": phase.fail_reason,
        "buttons": buttons,
        "maskBase64": "",
        "properties": properties,
    }


class TaskStore:
    """Every task by id, each tied to the key that created it.

    With `refresh_s` > 0 the gateway's view of a task is what upstream said at the last refresh
    (every `refresh_s` scenario seconds, as new-api's loop does), so a fetch sees coarse jumps
    and may go from `""` or `SUBMITTED` straight to `SUCCESS`; with 0 it sees upstream's latest.
    """

    def __init__(self, clock: SimClock, refresh_s: float = 0.0) -> None:
        if refresh_s < 0:
            raise ValueError("refresh_s must not be negative")
        self.clock = clock
        self.refresh_s = refresh_s
        self._tasks: dict[str, Task] = {}
        # Per owner, the tasks not yet seen finished: counting the queue walks these only,
        # not every task the sandbox has ever run.
        self._unfinished: dict[str, dict[str, Task]] = {}

    def seen_at(self) -> float:
        """The scenario instant of the gateway's last refresh (now, when it is not paced)."""
        now = self.clock.now()
        if self.refresh_s <= 0:
            return now
        return math.floor(now / self.refresh_s) * self.refresh_s

    def phase(self, task: Task) -> Phase:
        """The task's phase as the gateway shows it (fetch, list, the SUCCESS check of actions)."""
        return phase_of(task, self.seen_at())

    def new_id(self) -> str:
        """16 digits: epoch milliseconds then three random digits, unique in this store."""
        while True:
            candidate = f"{int(time.time() * 1000)}{random.randint(0, 999):03d}"
            if candidate not in self._tasks:
                return candidate

    def add(self, task: Task) -> Task:
        """Store a new task."""
        if not task.seed:
            task.seed = hashlib.sha256(f"{task.prompt}|{task.id}".encode()).hexdigest()
        self._tasks[task.id] = task
        self._unfinished.setdefault(task.owner, {})[task.id] = task
        return task

    def get(self, task_id: str, owner: str) -> Task | None:
        """The task, only when `owner` created it."""
        task = self._tasks.get(task_id)
        return task if task is not None and task.owner == owner else None

    def recent(self, owner: str, limit: int) -> list[Task]:
        """`owner`'s newest tasks, newest first."""
        theirs = [task for task in self._tasks.values() if task.owner == owner]
        return theirs[::-1][:limit]

    def get_any(self, task_id: str) -> Task | None:
        """The task whoever owns it (the image proxy needs no key)."""
        return self._tasks.get(task_id)

    def queued_ahead(self, owner: str) -> int:
        """How many of `owner`'s tasks are still unfinished (for the 排队中 description)."""
        now = self.clock.now()
        unfinished = self._unfinished.get(owner, {})
        ahead = 0
        for task in list(unfinished.values()):
            status = phase_of(task, now).status
            if status in RUNNING:
                ahead += 1
            elif status in FINISHED and not task.waiting_modal:
                del unfinished[task.id]  # time only moves forward: it stays finished
        return ahead
