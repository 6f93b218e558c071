"""Sandbox figures (printed, never asserted): pacing realism and capacity for many MJ tasks.

Run: .venv/bin/python bench/sandbox.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.sandbox.server import SandboxServer

KEY = {"Authorization": "Bearer sk-bench"}
TASKS = 200


async def chat_pacing() -> None:
    """Time to first token and token rate of a streamed answer at speed 1 (target ≈0.3 s, 20/s)."""
    async with SandboxServer(speed=1.0) as server, httpx.AsyncClient(
            base_url=server.url, headers=KEY, timeout=60) as http:
        await http.get("/v1/models")  # warm the connection and httpx's lazy imports
        body = {"model": "gpt-4o", "stream": True,
                "messages": [{"role": "user", "content": "pace me [[tokens:40]]"}]}
        start = time.perf_counter()
        first = None
        chunks = 0
        async with http.stream("POST", "/v1/chat/completions", json=body) as response:
            async for line in response.aiter_lines():
                if '"content":"' in line and '"content":""' not in line:
                    chunks += 1
                    first = first or time.perf_counter() - start
        total = time.perf_counter() - start
    assert first is not None
    rate = (chunks - 1) / (total - first) if total > first else float("inf")
    print(f"chat speed 1: first token {first:.2f} s, {chunks} tokens, {rate:.1f} tokens/s")


async def mj_capacity() -> None:
    """Submit, fetch one by one, and list-by-condition {TASKS} tasks at speed 200."""
    async with SandboxServer(speed=200.0) as server, httpx.AsyncClient(
            base_url=server.url, headers=KEY, timeout=60) as http:
        start = time.perf_counter()
        ids = []
        for index in range(TASKS):
            response = await http.post("/mj/submit/imagine", json={"prompt": f"bench {index}"})
            ids.append(response.json()["result"])
        submit = time.perf_counter() - start
        server.advance(60)
        fetches = []
        for task_id in ids:
            began = time.perf_counter()
            await http.get(f"/mj/task/{task_id}/fetch")
            fetches.append(time.perf_counter() - began)
        began = time.perf_counter()
        listed = (await http.post("/mj/task/list-by-condition", json={"ids": ids})).json()
        listing = time.perf_counter() - began
        began = time.perf_counter()
        for task in listed[:20]:
            await http.get(task["imageUrl"])
        images = (time.perf_counter() - began) / 20
    print(f"mj: {TASKS} submits in {submit:.2f} s ({TASKS / submit:.0f}/s); fetch median "
          f"{statistics.median(fetches) * 1000:.1f} ms, p95 "
          f"{sorted(fetches)[int(TASKS * 0.95)] * 1000:.1f} ms")
    print(f"mj: list-by-condition of {len(listed)} tasks {listing * 1000:.0f} ms; "
          f"first download of a grid PNG {images * 1000:.0f} ms each")


async def main() -> None:
    await chat_pacing()
    await mj_capacity()


if __name__ == "__main__":
    asyncio.run(main())
