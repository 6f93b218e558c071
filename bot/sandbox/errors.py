"""Response helpers: request ids, the /v1 and /mj error envelopes and the dashboard HTML page."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from aiohttp import web

REQUEST_ID_HEADER = "X-Oneapi-Request-Id"

# new-api's NoRoute answers every unknown non-/v1 path with its single-page dashboard.
DASHBOARD_HTML = (
    "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"/>"
    "<title>New API</title></head><body><noscript>You need to enable JavaScript to run this app."
    "</noscript><div id=\"root\"></div></body></html>"
)

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def new_request_id() -> str:
    """An id shaped like one-api's: local timestamp then random digits."""
    return time.strftime("%Y%m%d%H%M%S") + "".join(random.choices("0123456789", k=8))


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with UTF-8 text kept readable (the gateway does not escape Chinese)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return web.Response(
        text=body, status=status, content_type="application/json", charset="utf-8", headers=headers
    )


def openai_error(
    request_id: str,
    status: int,
    message: str,
    *,
    type_: str = "new_api_error",
    code: str = "",
    param: str = "",
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The §1.2 envelope; the message carries the request-id suffix like every gateway error."""
    error = {
        "message": f"{message} (request id: {request_id})",
        "type": type_,
        "param": param,
        "code": code,
    }
    return json_response({"error": error}, status=status, headers=headers)


def mj_relay_error(
    description: str, code: int = 4, result: str = "", status: int = 400
) -> web.Response:
    """The §1.3 relay envelope: `"<Description> <Result>"`, hence the trailing space."""
    return json_response(
        {"description": f"{description} {result}", "type": "upstream_error", "code": code},
        status=status,
    )


def mj_distributor_error(description: str, code: int = 4) -> web.Response:
    """The §1.3 distributor envelope (runs before the relay): no trailing space, new_api_error."""
    return json_response(
        {"description": description, "type": "new_api_error", "code": code}, status=400
    )


def submit_result(
    code: int, description: str, result: str = "", properties: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    """A SubmitResultVO (§9.1) as copied through by the gateway."""
    return json_response(
        {"code": code, "description": description, "result": result,
         "properties": properties or {}},
        status=status,
    )


def dashboard_page() -> web.Response:
    """HTTP 200 text/html: what new-api serves for paths it does not route."""
    return web.Response(text=DASHBOARD_HTML, content_type="text/html", charset="utf-8")
