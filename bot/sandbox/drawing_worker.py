"""The drawing worker process: runs pickled calls read from stdin, answers on stdout.

It lives exactly as long as the process that started it: it ends at the end of its input (the
parent closed the pipe, or died however it died, kill -9 included) and, in case some other
process still holds that pipe open (a fork of the parent), when its parent process changes.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time

from bot.sandbox.framing import frame, read_frame

PARENT_CHECK_S = 0.5


def _answer(payload: bytes) -> bytes:
    """Run one pickled `(function, args)` and pickle `(True, result)` or `(False, exception)`."""
    try:
        function, args = pickle.loads(payload)
        outcome: tuple[bool, object] = (True, function(*args))
    except Exception as exc:
        outcome = (False, exc)
    try:
        return pickle.dumps(outcome)
    except Exception as exc:  # an exception or result that does not pickle
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def main() -> None:
    """Serve calls until the input ends or the parent is gone."""
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    # Anything a drawing prints must not corrupt the frames.
    sys.stdout = sys.stderr
    while (request := read_frame(requests)) is not None:
        call_id, payload = request
        answers.write(frame(call_id, _answer(payload)))
        answers.flush()


if __name__ == "__main__":
    main()
