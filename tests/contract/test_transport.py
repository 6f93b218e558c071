"""§1: auth, request ids, error envelopes, unrouted paths, mode prefixes and the hit counter."""

from __future__ import annotations

import re

import httpx

from bot.sandbox.server import SandboxServer
from tests.contract.conftest import ALICE, client_for

REQUEST_ID = re.compile(r" \(request id: (\w+)\)$")


def openai_envelope(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, str] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    match = REQUEST_ID.search(error["message"])
    assert match is not None, error["message"]
    assert match[1] == response.headers["X-Oneapi-Request-Id"]
    return error


async def test_missing_key_is_401_openai_envelope_on_v1_and_mj(sandbox: SandboxServer) -> None:
    async with client_for(sandbox, None) as anonymous:
        for response in (await anonymous.get("/v1/models"),
                         await anonymous.post("/mj/submit/imagine", json={"prompt": "cat"}),
                         await anonymous.get("/mj/task/1/fetch")):
            assert response.status_code == 401
            error = openai_envelope(response)
            assert error["message"].startswith("未提供令牌")
            assert error["type"] == "new_api_error"


async def test_invalid_key_is_refused(sandbox: SandboxServer) -> None:
    async with client_for(sandbox, "sk-invalid-key") as http:
        response = await http.get("/v1/models")
    assert response.status_code == 401
    assert openai_envelope(response)["message"].startswith("无效的令牌")


async def test_any_key_with_or_without_sk_prefix_is_accepted(sandbox: SandboxServer) -> None:
    for key in ("sk-anything", "plain-token"):
        async with client_for(sandbox, key) as http:
            assert (await http.get("/v1/models")).status_code == 200


async def test_mj_accepts_mj_api_secret_header(sandbox: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url, verify=False) as http:
        response = await http.post("/mj/submit/imagine", json={"prompt": "cat"},
                                   headers={"mj-api-secret": ALICE})
        assert response.status_code == 200
        task_id = response.json()["result"]
        # The same key, given the usual way, sees the task: both headers name one caller.
        fetched = await http.get(f"/mj/task/{task_id}/fetch",
                                 headers={"Authorization": f"Bearer {ALICE}"})
        assert fetched.status_code == 200
        placeholder = await http.get(f"/mj/task/{task_id}/fetch", headers={
            "Authorization": "midjourney-proxy", "mj-api-secret": ALICE})
        assert placeholder.status_code == 200
        # mj-api-secret is only read on /mj.
        v1 = await http.get("/v1/models", headers={"mj-api-secret": ALICE})
        assert v1.status_code == 401


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    ids = set()
    for response in (await client.get("/v1/models"), await client.get("/nowhere"),
                     await client.get("/v1/nowhere"), await client.get("/mj/image/123")):
        request_id = response.headers["X-Oneapi-Request-Id"]
        assert request_id.isalnum() and len(request_id) >= 16
        ids.add(request_id)
    assert len(ids) == 4


async def test_unknown_v1_path_is_404_invalid_url(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/xyz")
    assert response.status_code == 404
    error = openai_envelope(response)
    assert error["message"].startswith("Invalid URL (GET /v1/xyz)")
    assert error["type"] == "invalid_request_error"
    wrong_method = await client.get("/v1/chat/completions")
    assert wrong_method.status_code == 404


async def test_api_and_assets_paths_are_404_json(client: httpx.AsyncClient) -> None:
    for path in ("/api/status-x", "/assets/x.js"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/json")


async def test_not_implemented_v1_route_is_501(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/files")
    assert response.status_code == 501
    assert openai_envelope(response)["code"] == "api_not_implemented"


async def test_unrouted_mj_paths_answer_html_200(client: httpx.AsyncClient) -> None:
    """queue, list, cancel and query are upstream-only: new-api serves its dashboard page."""
    for method, path in (("GET", "/mj/task/queue"), ("GET", "/mj/task/list"),
                         ("POST", "/mj/task/1730621826053455/cancel"),
                         ("POST", "/mj/task/query"), ("GET", "/totally/unknown")):
        response = await client.request(method, path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith("text/html")
        assert "<html" in response.text


async def test_unrouted_paths_need_no_key(sandbox: SandboxServer) -> None:
    async with client_for(sandbox, None) as anonymous:
        response = await anonymous.get("/mj/task/queue")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")


async def test_speed_mode_prefixes_reach_the_same_relay(client: httpx.AsyncClient) -> None:
    ids = []
    for prefix in ("/mj-fast", "/mj-relax", "/mj-turbo"):
        response = await client.post(f"{prefix}/mj/submit/imagine", json={"prompt": "cat"})
        assert response.status_code == 200
        assert response.json()["code"] == 1
        ids.append(response.json()["result"])
    listed = await client.post("/mj-fast/mj/task/list-by-condition", json={"ids": ids})
    assert sorted(task["id"] for task in listed.json()) == sorted(ids)
    fetched = await client.get(f"/mj/task/{ids[0]}/fetch")
    assert fetched.json()["id"] == ids[0]


async def test_hits_count_route_templates(sandbox: SandboxServer,
                                          client: httpx.AsyncClient) -> None:
    await client.get("/v1/models")
    await client.get("/mj/task/1234567890123456/fetch")
    await client.get("/mj/task/6543210987654321/fetch")
    await client.post("/mj-fast/mj/submit/imagine", json={"prompt": "x"})
    await client.get("/mj/task/queue")
    assert sandbox.hits["GET /v1/models"] == 1
    assert sandbox.hits["GET /mj/task/{id}/fetch"] == 2
    assert sandbox.hits["POST /mj-fast/mj/submit/imagine"] == 1
    assert sandbox.hits["GET /mj/task/queue"] == 1
    assert sum(sandbox.hits.values()) == 5


async def test_json_text_is_utf8_not_escaped(client: httpx.AsyncClient) -> None:
    response = await client.post("/mj/submit/imagine", json={"prompt": "猫"})
    assert "提交成功" in response.content.decode("utf-8")
