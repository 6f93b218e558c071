"""GET /v1/models (new-api's shape with `success: true`) and GET /v1/models/{model}."""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.context import info_of
from bot.sandbox.errors import json_response
from bot.sandbox.families import family_of_model
from bot.sandbox.state import state_of

CREATED = 1626777600

OWNERS: dict[str, str] = {
    "gpt-4o": "openai",
    "gpt-4o-mini": "openai",
    "gpt-4-turbo": "openai",
    "gpt-3.5-turbo": "openai",
    "gpt-3.5-turbo-instruct": "openai",
    "gpt-4-vision-preview": "openai",
    "gpt-4-all": "openai",
    "gpt-4-gizmo-g-2fkFE8rbu": "custom",
    "gemini-pro": "google",
    "gemini-pro-vision": "google",
    "stable-diffusion": "custom",
    "mj-chat": "custom",
    "dall-e-3": "openai",
    "whisper-1": "openai",
    "tts-1": "openai",
    "tts-1-hd": "openai",
    "text-embedding-3-small": "openai",
    "text-embedding-3-large": "openai",
    "text-embedding-ada-002": "openai",
}
MJ_PSEUDO_MODELS = (
    "mj_imagine", "mj_describe", "mj_blend", "mj_upscale", "mj_variation", "mj_reroll", "mj_modal",
    "mj_inpaint", "mj_zoom", "mj_custom_zoom", "mj_shorten", "mj_high_variation",
    "mj_low_variation", "mj_pan", "swap_face", "mj_upload",
)
OWNERS.update({name: "midjourney" for name in MJ_PSEUDO_MODELS})

GIZMO_PREFIX = "gpt-4-gizmo-"


def is_known(model: str) -> bool:
    """Whether the gateway has a channel for `model` (any GPTs id counts)."""
    return model in OWNERS or model.startswith(GIZMO_PREFIX)


def _entry(model: str) -> dict[str, object]:
    return {"id": model, "object": "model", "created": CREATED, "owned_by": OWNERS[model]}


def _served(request: web.Request, model: str) -> bool:
    families = state_of(request).families
    return model in OWNERS and family_of_model(model, OWNERS[model]) in families


async def list_models(request: web.Request) -> web.Response:
    """Every model enabled for the sandbox's single group (of the route families served)."""
    return json_response({"object": "list", "success": True,
                          "data": [_entry(model) for model in OWNERS if _served(request, model)]})


async def retrieve_model(request: web.Request) -> web.Response:
    """One model; unknown ids get one-api's HTTP 200 model_not_found error body."""
    model = request.match_info["model"]
    if _served(request, model):
        return json_response(_entry(model))
    message = f"The model '{model}' does not exist (request id: {info_of(request).request_id})"
    return json_response({"error": {"message": message, "type": "invalid_request_error",
                                    "param": "model", "code": "model_not_found"}})
