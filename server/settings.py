"""All settings, from ``HAZARDCHAIN_*`` environment variables; one place so docs/deploy.md
can list them."""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")
WEAK_SECRETS = {"", "changethis", "secret", "dev", "development"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZARDCHAIN_", extra="ignore")

    env: str = Field("development", description="development | production")
    database_url: str = Field(f"sqlite:///{VAR_DIR}/hazardchain.db")
    secret_key: str = Field("", description="JWT signing key; generated into var/ in development")
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    scheduler: str = Field("on", description="on | off (web-only replicas)")
    timezone: str = "Asia/Shanghai"
    demo_password: str = "demo-password"
    deadline_days: str = Field("", description='JSON overrides, e.g. {"general": {"mine": 3}}')
    blob_dir: Path = VAR_DIR / "blobs"
    max_page_size: int = 200
    log_level: str = "INFO"

    @field_validator("env")
    @classmethod
    def _env(cls, v: str) -> str:
        if v not in ("development", "production", "test"):
            raise ValueError("env must be development, production or test")
        return v

    @model_validator(mode="after")
    def _secret(self) -> Settings:
        if self.secret_key in WEAK_SECRETS:
            if self.env == "production":
                raise ValueError(
                    "HAZARDCHAIN_SECRET_KEY must be set to a strong value in production"
                )
            self.secret_key = _dev_secret()
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def scheduler_enabled(self) -> bool:
        return self.scheduler.lower() not in ("off", "0", "false", "no")

    def deadline_overrides(self) -> dict[str, dict[str, int]]:
        return json.loads(self.deadline_days) if self.deadline_days else {}


def _dev_secret() -> str:
    """A per-checkout secret so development tokens survive restarts but never sit in git."""
    path = VAR_DIR / "secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value
    except OSError:
        return secrets.token_urlsafe(48)


@lru_cache
def get_settings() -> Settings:
    return Settings()
