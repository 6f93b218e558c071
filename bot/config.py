"""All configuration in one pydantic-settings model, read from the environment and `.env`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.prices import parse_prices

# What a daily limit may count (USER_DAILY_LIMITS, CHAT_DAILY_LIMITS); bot/quotas.py counts them.
LIMIT_KINDS = (
    "chat_tokens",
    "mj_jobs",
    "mj_actions",
    "images",
    "transcribe_seconds",
    "speech_chars",
    "cost",
)


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
    # The largest request body the gateway takes (MB); images are checked against it before
    # they are encoded. upstream-api.md names no limit, and 32 MB is a common proxy setting.
    upstream_max_request_mb: float = 32.0
    # Only for the in-process sandbox: divides its delays (1 = realistic timing).
    sandbox_speed: float = 1.0

    # Platforms. With neither token the console adapter runs.
    telegram_bot_token: SecretStr | None = None
    # The Bot API server root; methods at {root}/bot{token}/{method} (a self-hosted
    # telegram-bot-api server, or the tests' fake).
    telegram_api_base_url: str = "https://api.telegram.org"

    # Discord. Comma-separated guild ids sync the app commands to those guilds at once (global
    # sync otherwise, which Discord may take a while to show). The URLs are for API proxies.
    discord_bot_token: SecretStr | None = None
    discord_guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    # Comma-separated channel ids where voice messages are transcribed without being asked
    # (needs the privileged Message Content intent enabled for the bot).
    discord_transcribe_channels: Annotated[list[int], NoDecode] = Field(default_factory=list)

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
    # Allowlists (empty = everyone): "platform:user_id", "platform:chat_id", Discord guild ids.
    # Admins pass them all.
    allowed_users: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_chats: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_guilds: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Daily limits per user and per chat, reset at 00:00 UTC: "mj_jobs=10,cost=200000"; kinds
    # are chat_tokens, mj_jobs, mj_actions, images, transcribe_seconds, speech_chars and cost
    # (in the gateway's quota units, see PRICES_FILE). A kind not listed is unlimited.
    user_daily_limits: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    chat_daily_limits: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    # Prices in the gateway's quota units: a JSON file, then a JSON object in the environment,
    # each over the defaults of bot/prices.py:
    # {"gpt-4o": {"prompt_per_1k": 1250, "completion_per_1k": 5000}, "mj_imagine": 50000}.
    prices_file: str | None = None
    price_overrides: str | None = None
    # On SIGTERM: how long answers being streamed may take to finish before the process exits.
    shutdown_grace_s: float = Field(default=20.0, ge=0)

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

    @field_validator("price_overrides")
    @classmethod
    def _price_json(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_prices(value, "JSON")  # raises naming the entry that is wrong
            return value
        return None

    @field_validator("prices_file")
    @classmethod
    def _price_file(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read {value}: {exc.strerror}") from None
        parse_prices(text, value)
        return value

    @field_validator("user_daily_limits", "chat_daily_limits", mode="before")
    @classmethod
    def _limits(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        limits: dict[str, float] = {}
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            kind, sep, amount = part.partition("=")
            kind = kind.strip().lower()
            if not sep or kind not in LIMIT_KINDS:
                raise ValueError(
                    f"expected kind=amount pairs with kinds {', '.join(LIMIT_KINDS)}; got {part!r}"
                )
            try:
                limits[kind] = float(amount)
            except ValueError:
                raise ValueError(f"{kind}: expected a number, got {amount.strip()!r}") from None
            if limits[kind] < 0:
                raise ValueError(f"{kind}: expected a number >= 0")
        return limits

    @field_validator(
        "allowed_models",
        "admins",
        "fetch_allowed_hosts",
        "allowed_users",
        "allowed_chats",
        "allowed_guilds",
        "discord_guild_ids",
        "discord_transcribe_channels",
        mode="before",
    )
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
