"""What this gateway offers, as the core sees it: commands left out of menus, and the user's
words for one it cannot serve.

Decided from the client's latest capabilities snapshot (learnt at start-up, refreshed in the
background, corrected when a route answers 404): no gateway call on a command's path. Before
the first snapshot everything is offered; the call itself then says what went wrong.
"""

from __future__ import annotations

from bot.config import Settings
from bot.context.models import is_allowed, is_vision, vision_fallback
from bot.i18n import Catalog
from bot.services import Services
from bot.upstream import Capabilities, Missing

# Missing.feature -> its catalog key; a feature without one is shown as the client named it.
_FEATURE_KEYS = {
    "Midjourney": "gateway.feature.midjourney",
    "chat model": "gateway.feature.chat",
    "image model": "gateway.feature.image",
    "speech model": "gateway.feature.speech",
    "transcription model": "gateway.feature.transcription",
}
# NotOffered.family (bot.upstream.routes.Family values) -> the feature it takes away.
_FAMILY_FEATURES = {
    "midjourney": "Midjourney",
    "chat": "chat model",
    "image": "image model",
    "speech": "speech model",
    "transcription": "transcription model",
}


def snapshot(services: Services) -> Capabilities | None:
    """The latest capabilities (None before the first probe)."""
    return services.client.capabilities.current


def offers(services: Services, command: str) -> bool:
    """Whether `command` belongs in /help and the platform menus at this gateway."""
    caps = snapshot(services)
    return caps is None or caps.offers(command)


def missing(services: Services, command: str, engine: str | None = None) -> Missing | None:
    """What `command` lacks at this gateway; None when it can run (or nothing is known yet)."""
    caps = snapshot(services)
    return None if caps is None else caps.missing(command, engine)


def missing_for_family(family: str | None) -> Missing | None:
    """The feature a route family's 404 took away (NotOffered.family), when we can name it."""
    feature = _FAMILY_FEATURES.get(family or "")
    return Missing(feature) if feature else None


def missing_text(catalog: Catalog, language: str, lack: Missing) -> str:
    """The plain sentence for the user: what this gateway has not, and what works instead."""
    key = _FEATURE_KEYS.get(lack.feature)
    feature = catalog.t(language, key) if key else lack.feature
    if lack.alternative:
        return catalog.t(
            language, "gateway.missing_instead", feature=feature, alternative=lack.alternative
        )
    return catalog.t(language, "gateway.missing", feature=feature)


def default_chat_model(services: Services) -> str:
    """The model for users who never chose one (see `fallback_model`)."""
    caps = snapshot(services)
    settings = services.settings
    return settings.default_model if caps is None else fallback_model(settings, caps)


def fallback_model(settings: Settings, caps: Capabilities) -> str:
    """DEFAULT_MODEL, or a chat model the gateway lists in its place when it does not list it
    (an allowed one first); DEFAULT_MODEL still when the gateway lists no chat model."""
    if caps.lists(settings.default_model):
        return settings.default_model
    listed = caps.chat_models or ()
    allowed = [m for m in settings.allowed_models if m in listed]
    if allowed:
        return allowed[0]
    return caps.fallback_chat_model(settings.default_model) or settings.default_model


def model_problems(settings: Settings, caps: Capabilities) -> list[str]:
    """One line per configured chat model the gateway does not list (start-up and `check`)."""
    if caps.chat_models is None:
        return []  # no list could be read: nothing to compare with
    problems: list[str] = []
    default = settings.default_model
    if not caps.lists(default):
        instead = fallback_model(settings, caps)
        problems.append(
            f"DEFAULT_MODEL {default} is not listed by the gateway; users who never chose a "
            f"model get {instead}"
            if instead != default
            else f"DEFAULT_MODEL {default} is not listed by the gateway, which lists no chat model"
        )
    unlisted = [m for m in settings.allowed_models if not caps.lists(m)]
    if unlisted:
        problems.append(f"ALLOWED_MODELS: {', '.join(unlisted)} not listed by the gateway")
    return problems


def vision_model(services: Services) -> str | None:
    """A model to answer a picture when the user's model cannot see (`vision_fallback`),
    among those the gateway lists once it is known; None when there is none."""
    settings = services.settings
    caps = snapshot(services)
    allowed = settings.allowed_models
    if caps is None or caps.chat_models is None:
        return vision_fallback(settings.default_model, allowed)
    candidates = (settings.default_model, *allowed, *caps.chat_models)
    usable = (m for m in candidates if is_vision(m) and is_allowed(m, allowed) and caps.lists(m))
    return next(usable, None)
