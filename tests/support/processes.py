"""Processes seen through /proc: who is whose child, and which are still alive (Linux only)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True, slots=True)
class Proc:
    """One process: its id, parent, state letter (Z = ended, not yet reaped) and command line."""

    pid: int
    ppid: int
    state: str
    command: str

    @property
    def alive(self) -> bool:
        """Still running (a zombie has ended and only waits to be reaped)."""
        return self.state not in ("Z", "X")


def _read(pid: int) -> Proc | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return None
    # The command name (field 2) is in parentheses and may hold spaces and parentheses.
    after = stat[stat.rindex(")") + 2 :].split()
    command = raw.replace(b"\0", b" ").decode(errors="replace").strip() or stat.split()[1]
    return Proc(pid, int(after[1]), after[0], command)


def all_processes() -> list[Proc]:
    """Every process visible now."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (proc := _read(int(entry.name))) is not None:
            found.append(proc)
    return found


def descendants(root: int) -> list[Proc]:
    """The children of `root`, their children, and so on."""
    procs = all_processes()
    family, found = {root}, []
    grew = True
    while grew:
        grew = False
        for proc in procs:
            if proc.ppid in family and proc.pid not in family:
                family.add(proc.pid)
                found.append(proc)
                grew = True
    return found


def still_alive(pids: list[int]) -> list[Proc]:
    """Those of `pids` that are still running; ended children of ours are reaped on the way."""
    alive = []
    for pid in pids:
        proc = _read(pid)
        if proc is None:
            continue
        if not proc.alive:
            reap(pid)
            continue
        alive.append(proc)
    return alive


def reap(pid: int) -> None:
    """Collect an ended child's exit status, if it is ours to collect."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux), so a grandchild left behind is still seen here."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name, use_errno=True)
    return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
