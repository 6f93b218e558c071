"""§9.4–§9.9: actions and their children, modal, blend, describe, shorten and face swap."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
from PIL import Image

from bot.sandbox.server import SandboxServer
from tests.contract.conftest import fetch, finished, png_data_url, submit
from tests.contract.test_mj_lifecycle import grid_custom_ids, hash_of

UPSCALED_LABELS = ["Upscale (Subtle)", "Upscale (Creative)", "Vary (Subtle)", "Vary (Strong)",
                   "Vary (Region)", "Zoom Out 2x", "Zoom Out 1.5x", "Custom Zoom"]


async def _grid(server: SandboxServer, http: httpx.AsyncClient,
                prompt: str = "pig --v 6.1") -> dict[str, Any]:
    return await finished(server, http, "/mj/submit/imagine", {"prompt": prompt})


async def _act(server: SandboxServer, http: httpx.AsyncClient, parent: dict[str, Any],
               custom_id: str) -> dict[str, Any]:
    return await finished(server, http, "/mj/submit/action",
                          {"taskId": parent["id"], "customId": custom_id})


def _ids(task: dict[str, Any]) -> list[str]:
    return [button["customId"] for button in task["buttons"]]


async def test_upscale_gives_a_single_image_with_the_upscaled_set(
        sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    grid = await _grid(sandbox, client)
    child = await _act(sandbox, client, grid, _ids(grid)[1])
    assert child["action"] == "UPSCALE"
    assert child["prompt"] == grid["prompt"]
    job_hash = hash_of(child)
    assert job_hash != hash_of(grid)
    tail = f"::1::{job_hash}::SOLO"
    ids = _ids(child)
    for expected in (f"MJ::JOB::upsample_v6r1_2x_subtle{tail}",
                     f"MJ::JOB::upsample_v6r1_2x_creative{tail}",
                     f"MJ::JOB::low_variation{tail}", f"MJ::JOB::high_variation{tail}",
                     f"MJ::Inpaint{tail}", f"MJ::Outpaint::50{tail}", f"MJ::Outpaint::75{tail}",
                     f"MJ::CustomZoom::{job_hash}", f"MJ::JOB::pan_left{tail}",
                     f"MJ::JOB::pan_right{tail}", f"MJ::JOB::pan_up{tail}",
                     f"MJ::JOB::pan_down{tail}"):
        assert expected in ids
    labels = [button["label"] for button in child["buttons"]]
    assert [label for label in labels if label] == UPSCALED_LABELS
    image = Image.open(io.BytesIO((await client.get(child["imageUrl"])).content))
    assert image.info["mj-hash"] == job_hash


@pytest.mark.parametrize(("version", "upscale", "zoom", "region"), [
    ("--v 4", "upsample_v5_2x", False, False),
    ("--v 5.2", "upsample_v5_4x", True, True),
    ("--v 6", "upsample_v6_2x_creative", True, True),
    ("--niji 6", "upsample_v6r1_2x_subtle", True, True),
    ("--v 7", "upsample_v7_2x_subtle", True, True),
    ("--v 8", "upsample_v7_2x_subtle", False, True),
])
async def test_upscaled_buttons_follow_the_model_version(
        sandbox: SandboxServer, client: httpx.AsyncClient, version: str, upscale: str,
        zoom: bool, region: bool) -> None:
    grid = await _grid(sandbox, client, f"a boat {version}")
    child = await _act(sandbox, client, grid, _ids(grid)[0])
    ids = _ids(child)
    assert any(f"::{upscale}::" in custom_id for custom_id in ids)
    assert any(i.startswith("MJ::Outpaint::") for i in ids) is zoom
    assert any(i.startswith("MJ::JOB::pan_") for i in ids) is zoom
    assert any(i.startswith("MJ::Inpaint::") for i in ids) is region
    # Every offered button is one the gateway can map, except the bookmark it refuses.
    for custom_id in ids[:-1]:
        response = await client.post("/mj/submit/action",
                                      json={"taskId": child["id"], "customId": custom_id})
        assert response.json()["code"] in (1, 21), (custom_id, response.text)


async def test_grid_children_of_v_reroll_zoom_pan(sandbox: SandboxServer,
                                                  client: httpx.AsyncClient) -> None:
    grid = await _grid(sandbox, client)
    ids = _ids(grid)
    variation = await _act(sandbox, client, grid, ids[5])
    reroll = await _act(sandbox, client, grid, ids[4])
    assert (variation["action"], reroll["action"]) == ("VARIATION", "REROLL")
    upscaled = await _act(sandbox, client, grid, ids[0])
    up_ids = _ids(upscaled)
    cases = {"MJ::Outpaint::50": "ZOOM", "MJ::JOB::pan_left": "PAN",
             "MJ::JOB::low_variation": "LOW_VARIATION", "MJ::JOB::high_variation": "HIGH_VARIATION",
             "MJ::JOB::upsample_v6r1_2x_subtle": "UPSCALE"}
    for prefix, action in cases.items():
        custom_id = next(i for i in up_ids if i.startswith(prefix + "::"))
        child = await _act(sandbox, client, upscaled, custom_id)
        assert child["action"] == action
        if action == "UPSCALE":
            assert "Vary (Region)" in [b["label"] for b in child["buttons"]]
        else:
            assert _ids(child) == grid_custom_ids(hash_of(child))
    for child in (variation, reroll):
        assert _ids(child) == grid_custom_ids(hash_of(child))
        picture = Image.open(io.BytesIO((await client.get(child["imageUrl"])).content))
        assert picture.info["mj-hash"] == hash_of(child)


async def test_action_errors(sandbox: SandboxServer,
                             client: httpx.AsyncClient, other: httpx.AsyncClient) -> None:
    grid = await _grid(sandbox, client)
    ids = _ids(grid)

    async def action(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
        return await http.post("/mj/submit/action", json=body)

    foreign = await action(other, {"taskId": grid["id"], "customId": ids[0]})
    assert foreign.status_code == 400
    assert foreign.json() == {"description": "task_not_found ", "type": "upstream_error",
                              "code": 4}
    for custom_id in ("MJ::BOOKMARK::x", "MJ::Job::PicReader::1", "nonsense"):
        unknown = await action(client, {"taskId": grid["id"], "customId": custom_id})
        assert unknown.status_code == 400
        assert unknown.json() == {"description": f"unknown_action:{custom_id}",
                                  "type": "new_api_error", "code": 4}
    missing = await action(client, {"taskId": grid["id"]})
    assert missing.status_code == 400 and missing.json()["code"] == 4
    stranger = await action(client, {"taskId": grid["id"],
                                     "customId": "MJ::JOB::upsample::1::not-this-hash"})
    assert stranger.status_code == 200 and stranger.json()["code"] == 4


async def test_action_on_unfinished_parent(frozen_client: httpx.AsyncClient) -> None:
    task_id = (await submit(frozen_client, "/mj/submit/imagine", {"prompt": "x"}))["result"]
    response = await frozen_client.post("/mj/submit/action", json={
        "taskId": task_id, "customId": "MJ::JOB::upsample::1::abc"})
    assert response.status_code == 400
    assert response.json()["description"] == "task_status_not_success "


async def _upscaled(server: SandboxServer, http: httpx.AsyncClient) -> dict[str, Any]:
    grid = await _grid(server, http)
    return await _act(server, http, grid, _ids(grid)[0])


async def test_vary_region_needs_modal_with_mask(sandbox: SandboxServer,
                                                 client: httpx.AsyncClient) -> None:
    upscaled = await _upscaled(sandbox, client)
    inpaint = next(i for i in _ids(upscaled) if i.startswith("MJ::Inpaint::"))
    result = await submit(client, "/mj/submit/action", {"taskId": upscaled["id"],
                                                        "customId": inpaint})
    assert result["code"] == 21
    assert result["description"] == "Waiting for window confirm"
    assert result["properties"] == {"finalPrompt": "pig --v 6.1", "remix": True}
    child_id = result["result"]
    sandbox.advance(60)
    waiting = await fetch(client, child_id)
    assert waiting["status"] == "MODAL" and waiting["action"] == "INPAINT"
    no_prompt = await submit(client, "/mj/submit/modal", {"taskId": child_id,
                                                          "maskBase64": png_data_url()})
    assert no_prompt["code"] == 4
    no_mask = await submit(client, "/mj/submit/modal", {"taskId": child_id, "prompt": "hat"})
    assert no_mask["code"] == 4
    unknown = await client.post("/mj/submit/modal", json={"taskId": "1", "prompt": "hat"})
    assert unknown.status_code == 400 and unknown.json()["description"] == "task_not_found "
    done = await finished(sandbox, client, "/mj/submit/modal", {
        "taskId": child_id, "prompt": "pig with a hat", "maskBase64": png_data_url()})
    assert done["id"] == child_id
    assert done["properties"]["finalPrompt"] == "pig with a hat"
    assert _ids(done) == grid_custom_ids(hash_of(done))
    again = await submit(client, "/mj/submit/modal", {"taskId": child_id, "prompt": "x",
                                                      "maskBase64": png_data_url()})
    assert again["code"] == 4


async def test_custom_zoom_needs_modal_with_prompt(sandbox: SandboxServer,
                                                   client: httpx.AsyncClient) -> None:
    upscaled = await _upscaled(sandbox, client)
    zoom = next(i for i in _ids(upscaled) if i.startswith("MJ::CustomZoom::"))
    result = await submit(client, "/mj/submit/action", {"taskId": upscaled["id"],
                                                        "customId": zoom})
    assert result["code"] == 21
    assert (await fetch(client, result["result"]))["status"] == "MODAL"
    done = await finished(sandbox, client, "/mj/submit/modal", {
        "taskId": result["result"], "prompt": "pig --zoom 1.5"})
    assert done["action"] == "CUSTOM_ZOOM"


async def test_blend(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    images = [png_data_url((255, 0, 0)), png_data_url((0, 0, 255))]
    for body, description in (({"base64Array": images[:1]}, "base64List参数错误"),
                              ({"base64Array": images * 3}, "base64List参数错误"),
                              ({"base64Array": images, "dimensions": "WIDE"}, "dimensions参数错误"),
                              ({"base64Array": images, "dimensions": None}, "dimensions参数错误"),
                              ({"base64Array": [images[0], "bad"]}, "base64格式错误")):
        refused = await submit(client, "/mj/submit/blend", body)
        assert (refused["code"], refused["description"]) == (4, description)
    task = await finished(sandbox, client, "/mj/submit/blend",
                          {"base64Array": images, "dimensions": "LANDSCAPE"})
    assert task["action"] == "BLEND" and task["prompt"] == ""
    assert _ids(task) == grid_custom_ids(hash_of(task))
    picture = Image.open(io.BytesIO((await client.get(task["imageUrl"])).content))
    assert picture.width > picture.height


async def test_describe(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    assert (await submit(client, "/mj/submit/describe", {}))["code"] == 4
    assert (await submit(client, "/mj/submit/describe", {"base64": "xyz"}))["code"] == 4
    red = png_data_url((220, 20, 20), (120, 60))
    task = await finished(sandbox, client, "/mj/submit/describe", {"base64": red})
    assert task["action"] == "DESCRIBE"
    prompts = task["properties"]["finalPrompt"]
    options = prompts.split("\n\n")
    assert [option[:3] for option in options] == ["1️⃣", "2️⃣", "3️⃣", "4️⃣"]
    assert "red" in prompts and "--ar 2:1" in prompts
    assert task["promptEn"] == prompts
    uploaded = await client.get(task["imageUrl"])
    assert uploaded.content == base64.b64decode(red.split(",", 1)[1])
    same = await finished(sandbox, client, "/mj/submit/describe", {"base64": red})
    assert same["properties"]["finalPrompt"] == prompts
    blue = await finished(sandbox, client, "/mj/submit/describe",
                          {"base64": png_data_url((20, 20, 230))})
    assert blue["properties"]["finalPrompt"] != prompts


async def test_describe_takes_a_link_instead_of_base64(
        sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    # §9.7: the plus proxy (TA) accepts `link`, an http(s) URL, when `base64` is empty.
    empty = await submit(client, "/mj/submit/describe", {"base64": "", "link": ""})
    assert (empty["code"], empty["description"]) == (4, "base64或link不能为空")
    bad = await submit(client, "/mj/submit/describe", {"link": "ftp://example.com/cat.png"})
    assert (bad["code"], bad["description"]) == (4, "链接格式错误")
    # A link to a picture this gateway served is described from that picture.
    drawn = await client.post("/v1/images/generations", json={
        "model": "dall-e-3", "prompt": "a red square", "size": "1024x1792"})
    url = drawn.json()["data"][0]["url"]
    task = await finished(sandbox, client, "/mj/submit/describe", {"link": url})
    assert task["action"] == "DESCRIBE" and task["status"] == "SUCCESS"
    assert "--ar 4:7" in task["properties"]["finalPrompt"]
    assert (await client.get(task["imageUrl"])).content == (await client.get(url)).content
    # Any other link (out of reach offline) still gives four prompts and an image.
    far = await finished(sandbox, client, "/mj/submit/describe",
                         {"link": "https://cdn.example.com/cat.png"})
    assert far["properties"]["finalPrompt"].count("️⃣") == 4
    image = await client.get(far["imageUrl"])
    assert Image.open(io.BytesIO(image.content)).format == "PNG"


async def test_shorten(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    assert (await submit(client, "/mj/submit/shorten", {"prompt": ""}))["code"] == 4
    task = await finished(sandbox, client, "/mj/submit/shorten", {
        "prompt": "a very detailed painting of an old lighthouse at dusk --ar 3:2"})
    assert task["action"] == "SHORTEN"
    # The contract says both "a task's description never changes at the gateway" (§9.2) and
    # "SHORTEN's description changes on success" (§9.8, §11.14). The second is upstream (TA)
    # behaviour; new-api's refresh loop (controller/midjourney.go UpdateMidjourneyTaskBulk)
    # copies progress, promptEn, state, times, imageUrl, status, failReason, properties and
    # buttons, never description. So the gateway keeps the submit text and the shortened
    # prompts reach the client in properties.finalPrompt and promptEn.
    assert task["description"] == "提交成功"
    for text in (task["promptEn"], task["properties"]["finalPrompt"]):
        _, _, options = text.partition("Shortened prompts")
        assert options, text
        assert "1️⃣" in options and "5️⃣" in options
    unknown = await client.post("/mj/submit/action", json={
        "taskId": task["id"], "customId": task["buttons"][0]["customId"]})
    assert unknown.status_code == 400


async def test_swap_face(sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    face, target = png_data_url((250, 200, 180)), png_data_url((10, 120, 40))
    for body in ({}, {"sourceBase64": face}, {"targetBase64": target}):
        response = await client.post("/mj/insight-face/swap", json=body)
        assert response.status_code == 400
        assert response.json() == {
            "description": "sour_base64_and_target_base64_is_required ",
            "type": "upstream_error", "code": 4}
    same = await submit(client, "/mj/insight-face/swap",
                        {"sourceBase64": face, "targetBase64": face})
    assert same["code"] == 4
    task = await finished(sandbox, client, "/mj/insight-face/swap",
                          {"sourceBase64": face, "targetBase64": target})
    assert task["action"] == "SWAP_FACE" and task["prompt"] == "InsightFace"
    assert not task["buttons"]
    picture = Image.open(io.BytesIO((await client.get(task["imageUrl"])).content))
    assert picture.format == "PNG"


async def test_legacy_change_and_simple_change(sandbox: SandboxServer,
                                               client: httpx.AsyncClient) -> None:
    grid = await _grid(sandbox, client)
    upscaled = await finished(sandbox, client, "/mj/submit/change",
                              {"taskId": grid["id"], "action": "UPSCALE", "index": 3})
    assert upscaled["action"] == "UPSCALE"
    varied = await finished(sandbox, client, "/mj/submit/simple-change",
                            {"content": f"{grid['id']} V2"})
    assert varied["action"] == "VARIATION"
    rerolled = await finished(sandbox, client, "/mj/submit/simple-change",
                              {"content": f"{grid['id']} R"})
    assert rerolled["action"] == "REROLL"
    bad = await submit(client, "/mj/submit/change", {"taskId": grid["id"], "action": "UPSCALE",
                                                     "index": 7})
    assert bad["code"] == 4
    assert (await submit(client, "/mj/submit/simple-change", {"content": "nonsense"}))["code"] == 4
    unknown = await client.post("/mj/submit/change", json={"taskId": "1", "action": "REROLL"})
    assert unknown.status_code == 400 and unknown.json()["description"] == "task_not_found "
