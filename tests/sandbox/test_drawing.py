"""The sandbox draws its pictures in a worker process, and keeps drawing when that worker dies."""

from __future__ import annotations

import io
import os
import signal

from PIL import Image

from bot.sandbox.drawing import draw
from bot.sandbox.server import SandboxServer
from tests.contract.conftest import ALICE, client_for, finished


async def test_pictures_are_drawn_outside_the_process_that_serves_requests() -> None:
    # Pillow holds the GIL while it draws: in the server's own process every drawing would
    # stall the event loop that answers polls and downloads.
    assert await draw(os.getpid) != os.getpid()


async def test_a_killed_drawing_worker_loses_no_picture() -> None:
    async with SandboxServer(speed=200.0) as server, client_for(server, ALICE) as http:
        os.kill(await draw(os.getpid), signal.SIGKILL)
        first = await finished(server, http, "/mj/submit/imagine", {"prompt": "owl"})
        image = await http.get(first["imageUrl"])
        assert image.status_code == 200
        assert Image.open(io.BytesIO(image.content)).info["prompt"] == "owl"
        # The next picture has a worker process again.
        replacement = await draw(os.getpid)
        assert replacement != os.getpid()
        second = await finished(server, http, "/mj/submit/imagine", {"prompt": "cat"})
        image = await http.get(second["imageUrl"])
    assert Image.open(io.BytesIO(image.content)).info["prompt"] == "cat"
