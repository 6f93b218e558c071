"""The speed factor and scenario clock: what tests and benchmarks rely on to run quickly."""

from __future__ import annotations

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
        server.advance(32.5)
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
