"""All configuration in one pydantic-settings model, read from the environment and `.env`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting the bot reads; names are the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # The gateway. With no base URL the bot starts the offline sandbox in-process.
    upstream_base_url: str | None = None
    upstream_api_key: SecretStr | None = None
    upstream_connect_timeout: float = 5.0
    upstream_read_timeout: float = 120.0
    # Only for the in-process sandbox: divides its delays (1 = realistic timing).
    sandbox_speed: float = 1.0

    # Platforms. With neither token the console adapter runs.
    telegram_token: SecretStr | None = None

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

    language: str = "en"
    # Comma-separated "platform:user_id" (e.g. "discord:1234,telegram:5678"): may press any button.
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"

    @field_validator("allowed_models", "admins", "discord_guild_ids",
                     "discord_transcribe_channels", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
