"""The speed factor and scenario clock: what tests and benchmarks rely on to run quickly."""

from __future__ import annotations

import itertools

import httpx

from bot.sandbox.server import SandboxServer
from tests.contract.conftest import ALICE, client_for, fetch, poll, submit


async def test_a_whole_mj_job_runs_through_at_test_speed(sandbox: SandboxServer) -> None:
    assert sandbox.speed == 200.0
    async with client_for(sandbox, ALICE) as http:
        task_id = (await submit(http, "/mj/submit/imagine", {"prompt": "fast"}))["result"]
        seen = await poll(http, task_id)
    assert seen[-1]["status"] == "SUCCESS"
    # Shown timestamps shrink with the speed: 30 scenario seconds are 150 ms at speed 200.
    assert abs(seen[-1]["finishTime"] - seen[-1]["startTime"] - 150) <= 1


async def test_at_speed_one_times_are_the_real_gateway_ones() -> None:
    async with SandboxServer(speed=1.0) as server, client_for(server, ALICE) as http:
        task_id = (await submit(http, "/mj/submit/imagine", {"prompt": "slow"}))["result"]
        # Done upstream after 32 s; the gateway sees it at its next refresh, at 45 s.
        server.advance(45.5)
        task = await fetch(http, task_id)
        assert task["status"] == "SUCCESS"
        assert abs(task["startTime"] - task["submitTime"] - 2000) <= 1
        assert abs(task["finishTime"] - task["startTime"] - 30000) <= 1


async def test_hits_and_url_of_a_started_server() -> None:
    server = SandboxServer()
    await server.start()
    try:
        assert server.port != 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(verify=False) as http:
            await http.get(f"{server.url}/v1/models")
        assert server.hits == {"GET /v1/models": 1}
    finally:
        await server.stop()


async def test_at_speed_one_the_gateway_shows_a_job_only_as_often_as_it_refreshes() -> None:
    async with SandboxServer(speed=1.0) as server, client_for(server, ALICE) as http:
        assert server.refresh_s == 15.0
        task_id = (await submit(http, "/mj/submit/imagine", {"prompt": "coarse"}))["result"]
        views: list[tuple[float, str, str]] = []
        for _ in range(50):
            task = await fetch(http, task_id)
            views.append((server.state.clock.now(), task["status"], task["progress"]))
            server.advance(1.0)
    changes = [views[0]] + [v for p, v in itertools.pairwise(views) if v[1:] != p[1:]]
    # A refresh every 15 s: "" until the first one, two progress jumps, then SUCCESS; the
    # SUBMITTED step and four of the six progress steps are never seen.
    assert [c[1] for c in changes] == ["", "IN_PROGRESS", "IN_PROGRESS", "SUCCESS"], changes
    assert all(int(after // 15) > int(before // 15)
               for (before, *_), (after, *_) in itertools.pairwise(changes))


async def test_a_quick_job_goes_from_nothing_straight_to_success_between_two_refreshes() -> None:
    async with SandboxServer(speed=1.0) as server, client_for(server, ALICE) as http:
        parent = (await submit(http, "/mj/submit/imagine", {"prompt": "cat"}))["result"]
        server.advance(45)
        grid = await fetch(http, parent)
        upscale = next(b["customId"] for b in grid["buttons"] if "upsample::1" in b["customId"])
        child = (await submit(http, "/mj/submit/action",
                              {"taskId": parent, "customId": upscale}))["result"]
        seen = []
        for _ in range(20):
            seen.append((await fetch(http, child))["status"])
            server.advance(1.0)
    assert seen[0] == "" and seen[-1] == "SUCCESS"
    assert set(seen) == {"", "SUCCESS"}, seen


async def test_other_speeds_and_an_explicit_zero_show_every_step() -> None:
    assert SandboxServer(speed=200.0).refresh_s == 0.0
    assert SandboxServer(speed=1.0, refresh_s=0).refresh_s == 0.0
    async with SandboxServer(speed=1.0, refresh_s=0) as server, client_for(server, ALICE) as http:
        task_id = (await submit(http, "/mj/submit/imagine", {"prompt": "fine"}))["result"]
        server.advance(3.0)
        assert (await fetch(http, task_id))["status"] == "SUBMITTED"
