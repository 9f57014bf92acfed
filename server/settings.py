"""All settings, from ``HAZARDCHAIN_*`` environment variables; one place so docs/deploy.md
can list them."""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.clock import DEFAULT_TIMEZONE

VAR_DIR = Path("var")
WEAK_SECRETS = {"", "changethis", "secret", "dev", "development"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZARDCHAIN_", extra="ignore")

    env: str = Field("development", description="development | production")
    database_url: str = Field(f"sqlite:///{VAR_DIR}/hazardchain.db")
    secret_key: str = Field("", description="JWT signing key; generated into var/ in development")
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    refresh_proof_seconds: int = Field(
        120,
        ge=10,
        le=900,
        description="a tablet's refresh proof is fresh this long either side of the server's clock",
    )
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    scheduler: str = Field("on", description="on | off (web-only replicas)")
    timezone: str = DEFAULT_TIMEZONE
    report_unit: str = Field(
        "", description="编制单位 printed on the daily report (empty: the scope's 应急管理局)"
    )
    demo_password: str = "demo-password"
    deadline_days: str = Field("", description='JSON overrides, e.g. {"general": {"mine": 3}}')
    separate_verify_close: bool = Field(
        True, description="职责分离: the officer who verified a major hazard may not also close it"
    )
    officer_assign_days: int = Field(
        1,
        ge=1,
        description="a reported hazard unassigned this many days is overdue for the officer",
    )
    blob_dir: Path = VAR_DIR / "blobs"
    max_page_size: int = 200
    log_level: str = "INFO"
    log_format: str = Field("text", description="text (key=value lines) | json (one object a line)")
    # scheduled jobs (docs/jobs.md); intervals in minutes, times local to ``timezone``
    overdue_minutes: float = Field(5, gt=0, description="flag_overdue interval")
    remind_minutes: float = Field(15, gt=0)
    remind_days: str = Field("3,1", description="reminder thresholds, days before a deadline")
    escalate_minutes: float = Field(15, gt=0)
    escalate_after_days: int = Field(3, ge=1, description="days overdue per escalation level")
    summary_time: str = Field("07:00", description="daily_summary time of day, HH:MM")
    plan_minutes: float = Field(60, gt=0, description="inspection task generation interval")
    plan_horizon_days: int = Field(7, ge=0, description="tasks are created this far ahead")
    # enterprise self-inspection (自查, shared.site_checklists.SELF_CHECKS)
    venue_hours: str = Field(
        "09:00-21:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$", description="opening hours, HH:MM-HH:MM"
    )
    self_inspection_grace_hours: float = Field(
        24, ge=0, description="a missed self-inspection reaches the officer after this long"
    )
    self_inspection_lookback_days: int = Field(
        3, ge=2, description="missed self-inspections are looked for this far back"
    )
    spot_check_share: float = Field(
        0.2, ge=0, le=1, description="share of self-closed hazards drawn for an officer's 抽查"
    )
    deliver_minutes: float = Field(1, gt=0, description="notification delivery interval")
    digest_time: str = Field("08:00", description="daily digest time of day, HH:MM")
    delivery_max_attempts: int = Field(5, ge=1)
    smtp_host: str = Field("", description="empty: no email channel")
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "hazardchain@localhost"
    webhook_secret: str = Field("", description="HMAC-SHA256 key for webhook signatures")
    # sync (docs/sync.md)
    sync_max_offline_days: int = Field(
        90, ge=1, description="a device silent for longer downloads everything again"
    )
    blob_orphan_days: int = Field(
        7, ge=1, description="photo bytes no record cites are removed after this many days"
    )
    # backups (docs/operations.md)
    backup_dir: Path = Field(VAR_DIR / "backups", description="nightly backups go here")
    backup_time: str = Field("02:30", description="nightly backup time of day, HH:MM")
    backup_keep: int = Field(7, ge=0, description="nightly backups kept; 0 turns them off")
    pg_bin_dir: str = Field("", description="folder of pg_dump/pg_restore; default PATH")
    # transparency log (docs/chain.md)
    log_key_file: Path = Field(
        VAR_DIR / "log_signing_key",
        description="Ed25519 key that signs log checkpoints; outside the database (keys init)",
    )
    log_origin: str = Field(
        "hazardchain.local/log", min_length=1, description="the log's name in its checkpoints"
    )
    log_checkpoint_minutes: float = Field(5, gt=0, description="log_checkpoint interval")
    log_checkpoint_dir: Path | None = Field(
        None, description="a folder an auditor keeps: every signed checkpoint is dropped there too"
    )
    log_webhook_url: str | None = Field(
        None,
        description="an external witness's URL: every signed checkpoint is POSTed there as JSON",
    )
    log_webhook_secret: str = Field(
        "", description="sent as X-HazardChain-Log-Secret with each checkpoint POST (optional)"
    )
    # monitoring (docs/operations.md)
    metrics_allow: str = Field(
        "127.0.0.1,::1", description="addresses or networks that may read /metrics, comma-separated"
    )
    metrics_token: str = Field(
        "", description="a bearer token that may read /metrics from anywhere"
    )
    heartbeat_stale_seconds: int = Field(
        180, ge=30, description="/readyz fails when the scheduler was silent this long"
    )
    # serving limits (hazardchain serve; docs/deploy.md)
    header_timeout_seconds: float = Field(
        10, gt=0, le=300, description="a connection must send its whole request head this soon"
    )
    body_timeout_seconds: float = Field(
        30, gt=0, le=3600, description="longest pause while a request body arrives"
    )
    keep_alive_seconds: int = Field(5, ge=1, le=300, description="idle keep-alive connections")
    max_connections: int = Field(
        1000, ge=1, description="open connections; lowered to fit the file limit (ulimit -n)"
    )
    max_header_bytes: int = Field(16 * 1024, ge=1024, le=1024 * 1024)

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

    @field_validator("log_webhook_url")
    @classmethod
    def _log_webhook_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError("log_webhook_url must be an http:// or https:// URL")
        return v or None

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, v: str) -> str:
        if v not in ("text", "json"):
            raise ValueError("log_format must be text or json")
        return v

    @field_validator("remind_days")
    @classmethod
    def _remind_days(cls, v: str) -> str:
        days = [x.strip() for x in v.split(",") if x.strip()]
        if not days or not all(x.isdigit() and int(x) > 0 for x in days):
            raise ValueError("remind_days must be positive whole days, e.g. 3,1")
        return v

    @field_validator("summary_time", "digest_time", "backup_time")
    @classmethod
    def _time_of_day(cls, v: str) -> str:
        hh, _, mm = v.partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ValueError("time of day must be HH:MM")
        return v

    @property
    def remind_thresholds(self) -> tuple[int, ...]:
        """Reminder thresholds in days, largest first."""
        return tuple(
            sorted({int(x) for x in self.remind_days.split(",") if x.strip()}, reverse=True)
        )


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
