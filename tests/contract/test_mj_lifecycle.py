"""§9.1–§9.3, §9.11, §11: submit results, the task object, lifecycle order, images and hashes."""

from __future__ import annotations

import io
import re
import time

import httpx
from PIL import Image

from bot.sandbox.server import SandboxServer
from tests.contract.conftest import fetch, finished, poll, submit

TASK_KEYS = ["id", "action", "customId", "botType", "prompt", "promptEn", "description", "state",
             "submitTime", "startTime", "finishTime", "imageUrl", "status", "progress",
             "failReason", "buttons", "maskBase64", "properties"]
BUTTON_KEYS = {"customId", "emoji", "label", "type", "style"}
ORDER = ["", "SUBMITTED", "IN_PROGRESS", "SUCCESS"]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def grid_custom_ids(job_hash: str) -> list[str]:
    """The exact grid button ids of §9.2's example, in order."""
    return ([f"MJ::JOB::upsample::{i}::{job_hash}" for i in range(1, 5)]
            + [f"MJ::JOB::reroll::0::{job_hash}::SOLO"]
            + [f"MJ::JOB::variation::{i}::{job_hash}" for i in range(1, 5)])


def hash_of(task: dict[str, object]) -> str:
    buttons = task["buttons"]
    assert isinstance(buttons, list)
    match = re.search(UUID, buttons[0]["customId"])
    assert match is not None
    return match[0]


async def test_submit_result_shape_and_id_format(client: httpx.AsyncClient) -> None:
    before = int(time.time() * 1000)
    result = await submit(client, "/mj/submit/imagine", {"prompt": "pig --v 6.1"})
    assert set(result) == {"code", "description", "result", "properties"}
    assert result["code"] == 1
    assert result["description"] == "提交成功"
    assert isinstance(result["result"], str)
    assert re.fullmatch(r"\d{16}", result["result"])
    assert int(result["result"][:13]) >= before
    assert isinstance(result["properties"], dict)


async def test_fresh_task_is_blank_until_the_gateway_polls(
        frozen: SandboxServer, frozen_client: httpx.AsyncClient) -> None:
    result = await submit(frozen_client, "/mj/submit/imagine", {"prompt": "pig", "state": "s1"})
    task = await fetch(frozen_client, result["result"])
    assert list(task) == TASK_KEYS
    assert task["status"] == "" and task["progress"] == "0%"
    assert task["startTime"] == 0 and task["finishTime"] == 0
    assert task["imageUrl"] == "" and task["buttons"] is None and task["properties"] is None
    assert task["action"] == "IMAGINE" and task["prompt"] == "pig" and task["state"] == "s1"
    assert task["customId"] == "" and task["botType"] == "" and task["maskBase64"] == ""
    assert task["description"] == "提交成功"
    assert isinstance(task["submitTime"], int) and task["submitTime"] > 0


async def test_lifecycle_steps_with_scenario_time(
        frozen: SandboxServer, frozen_client: httpx.AsyncClient) -> None:
    task_id = (await submit(frozen_client, "/mj/submit/imagine", {"prompt": "pig"}))["result"]
    frozen.advance(2.5)
    submitted = await fetch(frozen_client, task_id)
    assert submitted["status"] == "SUBMITTED" and submitted["progress"] == "0%"
    assert submitted["startTime"] > submitted["submitTime"]
    assert submitted["imageUrl"] == "" and submitted["buttons"] is None
    assert submitted["properties"] == {"finalPrompt": "pig", "finalZhPrompt": ""}
    frozen.advance(3)
    running = await fetch(frozen_client, task_id)
    assert running["status"] == "IN_PROGRESS"
    assert running["imageUrl"].startswith(f"{frozen.url}/mj/image/{task_id}?rand=")
    assert running["buttons"] is None and running["finishTime"] == 0
    frozen.advance(12)
    later = await fetch(frozen_client, task_id)
    assert later["status"] == "IN_PROGRESS"
    assert int(later["progress"][:-1]) > int(running["progress"][:-1])
    frozen.advance(20)
    done = await fetch(frozen_client, task_id)
    assert done["status"] == "SUCCESS" and done["progress"] == "100%"
    assert done["imageUrl"] == f"{frozen.url}/mj/image/{task_id}"
    assert done["finishTime"] > done["startTime"] > done["submitTime"]


async def test_lifecycle_in_real_time_is_ordered(client: httpx.AsyncClient) -> None:
    task_id = (await submit(client, "/mj/submit/imagine", {"prompt": "cat"}))["result"]
    seen = await poll(client, task_id)
    statuses = [task["status"] for task in seen]
    assert statuses[-1] == "SUCCESS"
    ranks = [ORDER.index(status) for status in statuses]
    assert ranks == sorted(ranks)
    percents = [int(task["progress"].rstrip("%")) for task in seen]
    assert percents == sorted(percents)
    for task in seen:
        assert re.fullmatch(r"\d{1,3}%", task["progress"])
        if task["status"] != "SUCCESS":
            assert task["buttons"] is None


async def test_success_grid_buttons_match_the_image(sandbox: SandboxServer,
                                                    client: httpx.AsyncClient) -> None:
    task = await finished(sandbox, client, "/mj/submit/imagine", {"prompt": "pig --v 6.1"})
    job_hash = hash_of(task)
    assert [b["customId"] for b in task["buttons"]] == grid_custom_ids(job_hash)
    for button in task["buttons"]:
        assert set(button) == BUTTON_KEYS
        assert button["type"] == 2 and button["style"] == 2
    labels = [b["label"] for b in task["buttons"]]
    assert labels == ["U1", "U2", "U3", "U4", "", "V1", "V2", "V3", "V4"]
    assert task["buttons"][4]["emoji"] == "🔄"
    assert task["properties"]["finalPrompt"] == "pig --v 6.1"
    image = await client.get(task["imageUrl"])
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].endswith(f'_{job_hash}.png"')
    picture = Image.open(io.BytesIO(image.content))
    assert picture.format == "PNG" and picture.size == (512, 512)
    assert picture.info["mj-hash"] == job_hash
    assert picture.info["mj-task"] == task["id"]
    # Four tiles of different colours: a 2×2 grid, not one picture.
    quarter = [picture.getpixel((x, y)) for x, y in ((20, 240), (276, 240), (20, 496),
                                                    (276, 496))]
    assert len(set(quarter)) == 4


async def test_aspect_ratio_shapes_the_grid(sandbox: SandboxServer,
                                            client: httpx.AsyncClient) -> None:
    task = await finished(sandbox, client, "/mj/submit/imagine", {"prompt": "wide --ar 16:9"})
    picture = Image.open(io.BytesIO((await client.get(task["imageUrl"])).content))
    assert picture.width == 512 and picture.height == 288


async def test_image_proxy_needs_no_key_and_knows_unknown_ids(
        sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    task = await finished(sandbox, client, "/mj/submit/imagine", {"prompt": "cat"})
    async with httpx.AsyncClient(verify=False) as anonymous:
        assert (await anonymous.get(task["imageUrl"])).status_code == 200
        missing = await anonymous.get(f"{sandbox.url}/mj/image/1111111111111111")
    assert missing.status_code == 400
    assert missing.json() == {"error": "midjourney_task_not_found"}


async def test_preview_is_served_while_running(frozen: SandboxServer,
                                               frozen_client: httpx.AsyncClient) -> None:
    task_id = (await submit(frozen_client, "/mj/submit/imagine", {"prompt": "x"}))["result"]
    frozen.advance(10)
    running = await fetch(frozen_client, task_id)
    preview = await frozen_client.get(running["imageUrl"])
    assert preview.status_code == 200
    small = Image.open(io.BytesIO(preview.content))
    assert small.width < 512


async def test_prompt_is_required(client: httpx.AsyncClient) -> None:
    for body in ({}, {"prompt": "   "}):
        response = await client.post("/mj/submit/imagine", json=body)
        assert response.status_code == 400
        assert response.json() == {"description": "prompt_is_required ", "type": "upstream_error",
                                   "code": 4}


async def test_unparseable_body_is_the_distributor_code_5(client: httpx.AsyncClient) -> None:
    response = await client.post("/mj/submit/imagine", content=b"{oops",
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 5 and body["type"] == "new_api_error"
    assert body["description"].startswith("无效的请求")


async def test_reference_images_are_validated_and_prefixed(sandbox: SandboxServer,
                                                           client: httpx.AsyncClient) -> None:
    from tests.contract.conftest import png_data_url

    bad = await submit(client, "/mj/submit/imagine", {"prompt": "x", "base64Array": ["nope"]})
    assert bad["code"] == 4 and bad["description"] == "base64格式错误"
    task = await finished(sandbox, client, "/mj/submit/imagine", {
        "prompt": "a dog", "base64Array": [png_data_url()], "botType": "NIJI_JOURNEY"})
    url, _, rest = task["promptEn"].partition(" ")
    assert rest == "a dog"
    assert task["prompt"] == "a dog"
    assert (await client.get(url)).status_code == 200


async def test_fetch_of_unknown_or_foreign_task(client: httpx.AsyncClient,
                                                other: httpx.AsyncClient) -> None:
    task_id = (await submit(client, "/mj/submit/imagine", {"prompt": "mine"}))["result"]
    expected = {"description": "task_no_found ", "type": "upstream_error", "code": 4}
    for http, wanted in ((client, "1234567890123456"), (other, task_id)):
        response = await http.get(f"/mj/task/{wanted}/fetch")
        assert response.status_code == 400
        assert response.json() == expected


async def test_list_by_condition_only_lists_own_known_tasks(client: httpx.AsyncClient,
                                                            other: httpx.AsyncClient) -> None:
    mine = [(await submit(client, "/mj/submit/imagine", {"prompt": f"p{i}"}))["result"]
            for i in range(3)]
    theirs = (await submit(other, "/mj/submit/imagine", {"prompt": "t"}))["result"]
    response = await client.post("/mj/task/list-by-condition",
                                 json={"ids": [*mine, theirs, "9999999999999999"]})
    assert response.status_code == 200
    listed = response.json()
    assert sorted(task["id"] for task in listed) == sorted(mine)
    assert all(list(task) == TASK_KEYS for task in listed)
    for body in ({}, {"ids": []}):
        assert (await client.post("/mj/task/list-by-condition", json=body)).json() == []
    broken = await client.post("/mj/task/list-by-condition", content=b"{",
                               headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["code"] == 4


async def test_image_seed(sandbox: SandboxServer, client: httpx.AsyncClient,
                          other: httpx.AsyncClient) -> None:
    task = await finished(sandbox, client, "/mj/submit/imagine", {"prompt": "seed me"})
    response = await client.get(f"/mj/task/{task['id']}/image-seed")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 1 and body["description"] == "成功"
    assert isinstance(body["result"], str) and body["result"].isdigit()
    again = await client.get(f"/mj/task/{task['id']}/image-seed")
    assert again.json()["result"] == body["result"]
    foreign = await other.get(f"/mj/task/{task['id']}/image-seed")
    assert foreign.status_code == 400 and foreign.json()["description"] == "task_no_found "


async def test_image_seed_of_unfinished_task(frozen_client: httpx.AsyncClient) -> None:
    task_id = (await submit(frozen_client, "/mj/submit/imagine", {"prompt": "x"}))["result"]
    response = await frozen_client.get(f"/mj/task/{task_id}/image-seed")
    assert response.status_code == 400
    assert response.json() == {"code": 4, "description": "关联任务状态错误"}


async def test_deadline_fails_unfinished_tasks(frozen: SandboxServer,
                                               frozen_client: httpx.AsyncClient) -> None:
    task_id = (await submit(frozen_client, "/mj/submit/imagine", {"prompt": "x"},
                            headers={"X-Sandbox-Fault": "stuck"}))["result"]
    frozen.advance(1800)
    stuck = await fetch(frozen_client, task_id)
    assert stuck["status"] == "IN_PROGRESS"
    frozen.advance(1801)
    failed = await fetch(frozen_client, task_id)
    assert failed["status"] == "FAILURE"
    assert failed["failReason"] == "上游任务超时（超过1小时）"
    assert failed["progress"] == "100%"
    assert failed["finishTime"] > 0
    assert failed["buttons"] is None


async def test_many_unfinished_tasks_report_a_queue(frozen_client: httpx.AsyncClient) -> None:
    results = [await submit(frozen_client, "/mj/submit/imagine", {"prompt": f"q{i}"})
               for i in range(5)]
    assert all(result["code"] == 1 for result in results)
    assert results[0]["description"] == "提交成功"
    assert results[4]["description"].startswith("排队中，前面还有")
    assert results[4]["properties"]["numberOfQueues"] >= 1


async def test_finished_tasks_leave_the_queue(frozen: SandboxServer,
                                              frozen_client: httpx.AsyncClient) -> None:
    for i in range(5):
        await submit(frozen_client, "/mj/submit/imagine", {"prompt": f"q{i}"})
    frozen.advance(600)  # every grid has finished
    later = await submit(frozen_client, "/mj/submit/imagine", {"prompt": "later"})
    assert later["description"] == "提交成功"
    assert "numberOfQueues" not in later["properties"]
    queued = [await submit(frozen_client, "/mj/submit/imagine", {"prompt": f"r{i}"})
              for i in range(4)]
    assert queued[-1]["description"].startswith("排队中，前面还有")
