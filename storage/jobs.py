"""The `jobs` table: Midjourney (and other long) jobs, from before their submit to delivery."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from storage.base import JobButton, JobFinish, JobNotFound, JobRecord, JobResult, JobStatus
from storage.database import Database, all_rows, first_row
from storage.schema import jobs

JOB_FIELDS = tuple(f.name for f in dataclasses.fields(JobRecord))
FINISHED = (JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.UNKNOWN)

INSERT_JOB = jobs.insert().returning(*jobs.c)
# The SET clause comes from the parameters' keys ("_job_id" is not a column name).
UPDATE_JOB = jobs.update().where(jobs.c.id == sa.bindparam("_job_id")).returning(*jobs.c)
# A job that finished meanwhile keeps what its finish wrote.
RENEW_LEASES = (
    jobs.update()
    .where(
        jobs.c.id.in_(sa.bindparam("_job_ids", expanding=True)),
        jobs.c.status == JobStatus.PENDING.value,
    )
    .values(next_poll_at=sa.bindparam("_until"))
)
GET_JOB = sa.select(jobs).where(jobs.c.id == sa.bindparam("_job_id"))


# JobResult field -> its key in the `result` JSON (the keys rows were first written with).
_RESULT_KEYS = {f.name: f.name for f in dataclasses.fields(JobResult)} | {
    "image_count": "count",
    "deadline_passed": "deadline",
}
_NO_RESULT = JobResult()


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def buttons_json(buttons: tuple[JobButton, ...]) -> str:
    """The `buttons` column: the upstream's own keys, in its order."""
    return _dumps([{"customId": b.custom_id, "emoji": b.emoji, "label": b.label} for b in buttons])


def buttons_from_json(text: str) -> tuple[JobButton, ...]:
    """Buttons as stored; the upstream may have sent null for a missing label or emoji."""
    loaded = json.loads(text)
    return tuple(
        JobButton(
            str(b.get("customId") or ""), str(b.get("label") or ""), str(b.get("emoji") or "")
        )
        for b in (loaded if isinstance(loaded, list) else [])
        if isinstance(b, dict)
    )


def result_json(result: JobResult) -> str:
    """The `result` column: the fields that differ from their default."""
    return _dumps(
        {
            key: getattr(result, name)
            for name, key in _RESULT_KEYS.items()
            if getattr(result, name) != getattr(_NO_RESULT, name)
        }
    )


def result_from_json(text: str) -> JobResult:
    """A stored result; keys no field has (none was ever written by the bot) are ignored."""
    loaded = json.loads(text)
    data = loaded if isinstance(loaded, dict) else {}
    count = data.get("count")
    return JobResult(
        label=str(data.get("label") or ""),
        custom_id=str(data.get("custom_id") or ""),
        image_count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
        final_prompt=str(data.get("final_prompt") or ""),
        description=str(data.get("description") or ""),
        action=str(data.get("action") or ""),
        deadline_passed=bool(data.get("deadline")),
        unfindable_told=bool(data.get("unfindable_told")),
    )


def _job_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """JobRecord field values -> column values (JSON text, plain status string)."""
    values = dict(fields)
    if "status" in values:
        values["status"] = JobStatus(values["status"]).value
    if "buttons" in values:
        values["buttons"] = buttons_json(values["buttons"])
    if "result" in values:
        values["result"] = result_json(values["result"])
    return values


def _job_from_row(row: sa.Row[Any]) -> JobRecord:
    data = dict(row._mapping)
    data["status"] = JobStatus(data["status"])
    data["buttons"] = buttons_from_json(data["buttons"])
    data["result"] = result_from_json(data["result"])
    data["delivered"] = bool(data["delivered"])
    data["chat_private"] = bool(data["chat_private"])
    for name in ("created_at", "updated_at", "next_poll_at"):
        data[name] = float(data[name])
    return JobRecord(**data)


class JobTable:
    """Records jobs, changes them as the upstream reports, and finds them again."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_job(self, job: JobRecord) -> JobRecord:
        """Store a new job (before its submit is sent) and return it with its id."""
        now = self._db.clock()
        fields = {name: getattr(job, name) for name in JOB_FIELDS if name != "id"}
        fields["created_at"] = job.created_at or now
        fields["updated_at"] = job.updated_at or fields["created_at"]
        values = _job_values(fields)

        def write(conn: sa.Connection) -> sa.Row[Any]:
            return conn.execute(INSERT_JOB, values).one()

        return _job_from_row(await self._db.write(write))

    async def set_job_upstream(
        self,
        job_id: int,
        upstream_id: str,
        status: JobStatus,
        *,
        poll_lease_until: float | None = None,
    ) -> JobRecord:
        """The upstream accepted the submit: its task id, and PENDING (or MODAL: it waits);
        held for this process's poller until `poll_lease_until` when given."""
        held = {} if poll_lease_until is None else {"next_poll_at": poll_lease_until}
        return await self._update(job_id, status=status, upstream_id=upstream_id, **held)

    async def set_job_prompt(self, job_id: int, prompt: str) -> JobRecord:
        """The prompt the user gave a job waiting in MODAL, before it is sent."""
        return await self._update(job_id, prompt=prompt)

    async def set_job_message(self, job_id: int, message_id: str) -> JobRecord:
        """The job's message in the chat is now this one."""
        return await self._update(job_id, message_id=message_id)

    async def mark_modal(self, job_id: int) -> JobRecord:
        """The upstream holds the job for its owner's prompt."""
        return await self._update(job_id, status=JobStatus.MODAL)

    async def mark_pending(self, job_id: int) -> JobRecord:
        """The job's upstream task is to be polled again (its last step's answer was lost)."""
        return await self._update(job_id, status=JobStatus.PENDING)

    async def adopt_task(self, job_id: int, upstream_id: str) -> JobRecord:
        """An unknown job turned out to be this upstream task: PENDING, to be delivered."""
        return await self._update(
            job_id, status=JobStatus.PENDING, upstream_id=upstream_id, delivered=False
        )

    async def set_job_result(self, job_id: int, result: JobResult) -> JobRecord:
        """Replace what the job carries besides its status (see `JobResult`)."""
        return await self._update(job_id, result=result)

    async def save_progress(
        self, job_id: int, progress: str, image_url: str, message_id: str | None = None
    ) -> JobRecord:
        """The latest progress the upstream reported (and the message showing it, if it moved)."""
        moved = {} if message_id is None else {"message_id": message_id}
        return await self._update(job_id, progress=progress, image_url=image_url, **moved)

    async def finish_job(
        self,
        job_id: int,
        finish: JobFinish,
        *,
        delivered: bool = False,
        message_id: str | None = None,
    ) -> JobRecord:
        """The job ended; `delivered` once its chat has been told (in `message_id`, if given)."""
        changes: dict[str, Any] = {"status": finish.status, "delivered": delivered}
        for name in ("progress", "image_url", "fail_reason", "buttons", "result"):
            value = getattr(finish, name)
            if value is not None:
                changes[name] = value
        if message_id is not None:
            changes["message_id"] = message_id
        return await self._update(job_id, **changes)

    async def mark_delivered(self, job_id: int, message_id: str | None = None) -> JobRecord:
        """The stored result (or failure) reached the chat, in `message_id` when given."""
        moved = {} if message_id is None else {"message_id": message_id}
        return await self._update(job_id, delivered=True, **moved)

    async def _update(self, job_id: int, **changes: Any) -> JobRecord:
        """Change fields of a job (by JobRecord field name), stamp it, return the new record."""
        changes["updated_at"] = self._db.clock()
        values = {**_job_values(changes), "_job_id": job_id}

        def write(conn: sa.Connection) -> sa.Row[Any] | None:
            return conn.execute(UPDATE_JOB, values).first()

        row = await self._db.write(write)
        if row is None:
            raise JobNotFound(job_id)
        return _job_from_row(row)

    async def get_job(self, job_id: int) -> JobRecord | None:
        """The job with our id, or None."""
        row = await self._db.read(first_row(GET_JOB, {"_job_id": job_id}))
        return None if row is None else _job_from_row(row)

    async def _jobs(self, stmt: sa.Select[Any]) -> list[JobRecord]:
        return [_job_from_row(row) for row in await self._db.read(all_rows(stmt))]

    async def list_jobs(self, statuses: list[JobStatus], limit: int = 1000) -> list[JobRecord]:
        """Jobs in the given statuses, oldest first."""
        if not statuses:
            return []
        stmt = (
            sa.select(jobs)
            .where(jobs.c.status.in_([JobStatus(s).value for s in statuses]))
            .order_by(jobs.c.id)
            .limit(limit)
        )
        return await self._jobs(stmt)

    async def get_job_by_upstream(self, upstream_id: str) -> JobRecord | None:
        """The job following the upstream task `upstream_id`, or None."""
        jobs_found = await self._jobs(sa.select(jobs).where(jobs.c.upstream_id == upstream_id))
        return jobs_found[0] if jobs_found else None

    async def list_user_jobs(
        self, platform: str, owner_id: str, limit: int = 10
    ) -> list[JobRecord]:
        """One user's newest jobs, newest first."""
        stmt = (
            sa.select(jobs)
            .where(jobs.c.platform == platform, jobs.c.owner_id == owner_id)
            .order_by(jobs.c.id.desc())
            .limit(limit)
        )
        return await self._jobs(stmt)

    async def find_child_job(self, parent_upstream_id: str, custom_id: str) -> JobRecord | None:
        """The newest job an action (`custom_id`) on that parent produced, failed ones aside."""
        stmt = (
            sa.select(jobs)
            .where(
                jobs.c.parent_upstream_id == parent_upstream_id,
                jobs.c.status != JobStatus.FAILURE.value,
            )
            .order_by(jobs.c.id.desc())
        )
        # A parent has a handful of children: the customId (kept in `result`) is matched here.
        for job in await self._jobs(stmt):
            if job.result.custom_id == custom_id:
                return job
        return None

    async def list_undelivered(self) -> list[JobRecord]:
        """Finished (success/failure/unknown) jobs whose result has not reached the chat yet."""
        stmt = (
            sa.select(jobs)
            .where(jobs.c.status.in_([s.value for s in FINISHED]), jobs.c.delivered == sa.false())
            .order_by(jobs.c.id)
        )
        return await self._jobs(stmt)

    async def claim_jobs_for_poll(
        self, now: float, limit: int, *, lease_s: float | None = None
    ) -> list[JobRecord]:
        """Pending jobs due for a poll (`next_poll_at <= now`), most overdue first.

        With `lease_s` they are leased (see `Store.claim_jobs_for_poll`): on PostgreSQL the rows
        are taken FOR UPDATE SKIP LOCKED, so a second process polling at the same moment skips
        them, and after the commit their `next_poll_at` hides them until the lease runs out.
        """
        due = (
            sa.select(jobs)
            .where(jobs.c.status == JobStatus.PENDING.value, jobs.c.next_poll_at <= now)
            .order_by(jobs.c.next_poll_at, jobs.c.id)
            .limit(limit)
        )
        if lease_s is None:
            return await self._jobs(due)
        until = now + lease_s

        def write(conn: sa.Connection) -> list[JobRecord]:
            # SQLite has no row locks (nor needs them: one process) and renders no FOR UPDATE.
            rows = conn.execute(due.with_for_update(skip_locked=True)).all()
            claimed = [_job_from_row(row) for row in rows]
            if claimed:
                conn.execute(
                    jobs.update()
                    .where(jobs.c.id.in_([job.id for job in claimed]))
                    .values(next_poll_at=until)
                )
            return claimed

        claimed = await self._db.write(write)
        for job in claimed:
            job.next_poll_at = until
        return claimed

    async def renew_poll_leases(self, job_ids: list[int], until: float) -> None:
        """Keep holding pending jobs this process polls (their `next_poll_at` becomes `until`)."""
        if not job_ids:
            return
        params = {"_job_ids": list(job_ids), "_until": until}

        def write(conn: sa.Connection) -> None:
            conn.execute(RENEW_LEASES, params)

        await self._db.write(write)
