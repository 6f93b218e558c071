"""All configuration in one pydantic-settings model, read from the environment and `.env`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting the bot reads; names are the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # The gateway. With no base URL the bot starts the offline sandbox in-process.
    upstream_base_url: str | None = None
    upstream_api_key: SecretStr | None = None
    upstream_connect_timeout: float = 5.0
    upstream_read_timeout: float = 120.0
    # Comma-separated hosts ("images.lan", "10.0.0.5:9000") that images linked in a model's
    # answer may come from although they resolve to private addresses (public ones need none).
    fetch_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Only for the in-process sandbox: divides its delays (1 = realistic timing).
    sandbox_speed: float = 1.0

    # Platforms. With neither token the console adapter runs.
    discord_token: SecretStr | None = None
    telegram_token: SecretStr | None = None

    database_url: str = "sqlite+aiosqlite:///./data/modelbridge.db"

    # Chat.
    default_model: str = "gpt-4o-mini"
    # Comma-separated model ids users may pick with /model; empty means every chat model listed.
    allowed_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # "user": in groups each member has their own thread of context; "chat": the chat shares one.
    context_scope: Literal["user", "chat"] = "user"
    context_token_budget: int = 6000
    summarize_dropped_context: bool = False
    system_prompt: str = "You are a helpful assistant."

    # Midjourney.
    mj_task_deadline_s: float = 3600.0
    mj_poll_min_interval_s: float = 1.0
    mj_poll_max_interval_s: float = 10.0
    button_token_ttl_s: float = 7 * 24 * 3600.0
    # How long a prompt asked for by a press (modal, ForceReply) can still be answered.
    text_request_ttl_s: float = 3600.0
    # How often expired button tokens and text requests are deleted.
    purge_interval_s: float = 3600.0

    # Images, speech.
    dalle_model: str = "dall-e-3"
    tts_model: str = "tts-1"
    tts_default_voice: str = "alloy"
    transcribe_model: str = "whisper-1"

    # Where the console adapter saves images and audio it receives.
    console_output_dir: str = "./out"
    # The console's line history on a terminal; empty: `console_history` beside the SQLite file
    # (./data/ when the database is not a file).
    console_history_file: str = ""

    language: str = "en"
    # Comma-separated "platform:user_id" (e.g. "discord:1234,telegram:5678"): may press any button.
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # "text" for people reading a terminal, "json" (one object per line) for log collectors.
    log_format: Literal["text", "json"] = "text"

    # The operator's HTTP listener (/healthz, /metrics); off unless a port is set.
    health_port: int | None = Field(default=None, ge=0, le=65535)
    health_host: str = "0.0.0.0"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("upstream_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL such as https://gateway.example")
        return url

    @field_validator("allowed_models", "admins", "fetch_allowed_hosts", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class ConfigError(Exception):
    """Settings that cannot be used; `problems` holds one line per wrong setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_settings() -> Settings:
    """Read the settings, or raise ConfigError naming each wrong one and what it expects."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors()]) from None


def _describe(error: Mapping[str, Any]) -> str:
    name = ".".join(str(part) for part in error.get("loc", ())).upper() or "settings"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    given = error.get("input")
    # The given value is echoed only where it cannot be a secret.
    shown = "" if _is_secret(name) or isinstance(given, dict) else f" (got {given!r})"
    return f"{name}: {message}{shown}"


def _is_secret(name: str) -> bool:
    return any(word in name for word in ("KEY", "TOKEN", "SECRET", "PASSWORD", "DATABASE_URL"))
