"""MJ pictures as the image proxy serves them: real PNGs, drawn once, showing the right prompt."""

from __future__ import annotations

import io

from PIL import Image

from bot.sandbox.images import Picture, draw_grid, grid_png, grid_size
from bot.sandbox.png import encode_png
from bot.sandbox.server import SandboxServer
from tests.contract.conftest import ALICE, client_for, fetch, finished, poll, submit


def test_written_png_reads_back_with_its_pixels_and_texts() -> None:
    drawn = Image.new("RGB", (7, 3), (10, 200, 30))
    drawn.putpixel((6, 2), (255, 0, 128))
    data = encode_png(drawn, {"mj-hash": "abc"}, {"prompt": "ünïcode 猫"})
    picture = Image.open(io.BytesIO(data))
    picture.load()
    assert picture.format == "PNG" and picture.mode == "RGB" and picture.size == (7, 3)
    assert picture.tobytes() == drawn.tobytes()
    assert picture.info["mj-hash"] == "abc" and picture.info["prompt"] == "ünïcode 猫"


def test_a_grid_keeps_its_size_metadata_and_four_tiles() -> None:
    data = grid_png(Picture("cat --ar 16:9", "seed", "hash-1", "42"), grid_size((16, 9)))
    picture = Image.open(io.BytesIO(data))
    picture.verify()
    picture = Image.open(io.BytesIO(data))
    assert picture.size == (512, 288)
    assert (picture.info["mj-hash"], picture.info["mj-task"]) == ("hash-1", "42")
    corners = {picture.getpixel((x, y)) for x in (20, 276) for y in (130, 270)}
    assert len(corners) == 4


async def test_a_running_job_has_a_preview_and_its_result_is_one_file() -> None:
    async with SandboxServer(speed=200.0) as server, client_for(server, ALICE) as http:
        task_id = (await submit(http, "/mj/submit/imagine", {"prompt": "owl"}))["result"]
        running = await poll(http, task_id, until=("IN_PROGRESS", "SUCCESS"))
        if running[-1]["status"] == "IN_PROGRESS":
            preview = await http.get(running[-1]["imageUrl"])
            assert Image.open(io.BytesIO(preview.content)).width < 512
        done = await poll(http, task_id)
        first = await http.get(done[-1]["imageUrl"])
        second = await http.get(done[-1]["imageUrl"])
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    picture = Image.open(io.BytesIO(first.content))
    assert picture.info["mj-task"] == task_id and picture.info["prompt"] == "owl"


async def test_a_remix_result_shows_the_prompt_given_in_the_modal() -> None:
    remix = SandboxServer(speed=200.0, faults=["remix"])
    async with remix as server, client_for(server, ALICE) as http:
        grid = await finished(server, http, "/mj/submit/imagine", {"prompt": "pig"})
        custom_id = next(
            b["customId"] for b in grid["buttons"] if "variation::1" in b["customId"]
        )
        asked = await submit(http, "/mj/submit/action",
                             {"taskId": grid["id"], "customId": custom_id})
        assert (await fetch(http, asked["result"]))["status"] == "MODAL"
        server.set_fault(None)
        done = await finished(server, http, "/mj/submit/modal",
                              {"taskId": asked["result"], "prompt": "pig with a hat"})
        image = await http.get(done["imageUrl"])
    assert Image.open(io.BytesIO(image.content)).info["prompt"] == "pig with a hat"


def test_a_palette_png_reads_back_with_its_pixels_and_colours() -> None:
    drawn = Image.new("RGB", (5, 4), (10, 200, 30))
    drawn.putpixel((4, 3), (255, 255, 255))
    flat = drawn.convert("P", dither=Image.Dither.NONE)
    picture = Image.open(io.BytesIO(encode_png(flat, {"mj-task": "7"})))
    picture.load()
    assert picture.mode == "P" and picture.info["mj-task"] == "7"
    assert picture.convert("RGB").tobytes() == flat.convert("RGB").tobytes()
    assert picture.convert("RGB").getpixel((4, 3)) == (255, 255, 255)


def test_every_tile_of_a_grid_keeps_its_exact_colour_whatever_the_seed() -> None:
    # Grids are written with a palette: one made of the drawing's own colours, so no two tiles
    # ever merge into one colour (a fixed palette merged similar tiles now and then).
    points = [(x, y) for x in (20, 276) for y in (20, 240, 276, 496)]
    for n in range(30):
        picture = Picture("cat", f"seed-{n}")
        drawn = draw_grid(picture, (512, 512))
        written = Image.open(io.BytesIO(grid_png(picture, (512, 512)))).convert("RGB")
        assert [written.getpixel(p) for p in points] == [drawn.getpixel(p) for p in points]
        corners = {written.getpixel((x, y)) for x in (20, 276) for y in (240, 496)}
        assert len(corners) == 4
