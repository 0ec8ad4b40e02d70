"""Typed settings from the environment and ``.env`` (pydantic-settings), and the community rules YAML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.activity_rules import ActivityRules, PointRules  # issue 7

DEFAULT_RULES = Path(__file__).parent / "data" / "community.yaml"


class Settings(BaseSettings):
    """Everything the process reads from its environment, read once at start-up."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    database_url: str = "sqlite+aiosqlite:///./data/residents.db"
    bot_framework: Literal["aiogram", "ptb"] = "aiogram"
    run_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh-Hans", "zh-Hant", "en"] = "zh-Hans"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    rules_file: Path | None = None
    log_level: str = "INFO"
    poll_timeout: int = 25
    #: Seconds a send may take before it counts as timed out (then it may or may not have arrived).
    send_timeout: float = Field(default=15, gt=0, le=120)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace("，", ",").split(",") if p.strip()]
            try:
                return [int(p) for p in parts]
            except ValueError:
                raise ValueError("ADMIN_IDS must be comma-separated Telegram user ids, e.g. 123,456") from None
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError("TELEGRAM_API_URL must start with http:// or https://")
        return url.removesuffix("/bot")

    def token(self) -> str:
        """The bot token; raises a clear error when it is missing."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ValueError("BOT_TOKEN is not set: put it in .env or the environment (see .env.example)")
        return self.bot_token.get_secret_value().strip()


ROUTE_TARGETS = frozenset({"building_head", "grid_worker", "volunteer", "property", "admin", "duty"})
LADDER_RUNGS = frozenset({"assignee", "building_head", "grid_worker", "volunteer", "property", "admin"})


class CategoryRule(BaseModel):
    """Per category: timing, who receives the case, its claim window and the escalation ladder."""

    due_hours: float = Field(default=48, gt=0)
    urgent_due_minutes: float = Field(default=30, gt=0)
    route: list[str] = Field(default_factory=lambda: ["building_head"])
    claim_minutes: float = Field(default=30, gt=0)
    remind_before_minutes: float = Field(default=60, ge=0)
    escalate_every_minutes: float = Field(default=120, gt=0)
    ladder: list[str] = Field(default_factory=lambda: ["assignee", "building_head", "grid_worker", "admin"])
    #: grab (抢单): the card goes to everyone routed, the first [接单] wins; assign (派单): it goes to
    #: one person (the first routed who can get private messages), who accepts or passes it on (转派).
    mode: Literal["grab", "assign"] = "grab"

    @field_validator("route")
    @classmethod
    def _known_targets(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in ROUTE_TARGETS]
        if unknown:
            raise ValueError(f"unknown route target(s) {unknown}; use {sorted(ROUTE_TARGETS)}")
        return value

    @field_validator("ladder")
    @classmethod
    def _known_rungs(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in LADDER_RUNGS]
        if unknown or not value:
            raise ValueError(f"ladder needs rungs from {sorted(LADDER_RUNGS)}, got {value}")
        return value


class QuietHours(BaseModel):
    """Hours (community time) in which non-urgent reminders wait until morning."""

    start: str = "22:00"
    end: str = "07:00"

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        from bot.core.duty import parse_clock

        if parse_clock(value) is None:
            raise ValueError(f"{value!r} is not a time of day (HH:MM)")
        return value


class DuplicateRule(BaseModel):
    """When a new request is the same problem as an open case."""

    window_hours: float = Field(default=72, gt=0)
    generic_words: list[str] = Field(default_factory=list)
    # A reply to a case's message (the report or the bot's card) that says "me too" (a regular expression;
    # "" turns it off), or that is itself a request of the case's category, records its author as affected.
    me_too: str = ""

    @field_validator("me_too")
    @classmethod
    def _me_too_compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from error
        return value


class WallRules(BaseModel):
    """Say-it wall and echo board digests, rating reminders, return visits and staff reports (issue 6).

    Times are HH:MM in community time; weekdays 0 = Monday … 6 = Sunday; ``None`` turns a digest off.
    """

    daily_digest: str | None = "20:00"
    weekly_digest: str | None = "20:00"
    weekly_digest_weekday: int = Field(default=6, ge=0, le=6)
    page_size: int = Field(default=8, ge=3, le=30)
    echo_days: int = Field(default=7, ge=1, le=60)
    rating_reminder_days: float = Field(default=2, gt=0)
    return_visit_day: int = Field(default=1, ge=1, le=28)
    return_visit_time: str = "10:00"
    weekly_report_weekday: int = Field(default=0, ge=0, le=6)
    report_time: str = "09:00"

    @field_validator("daily_digest", "weekly_digest", "return_visit_time", "report_time")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        from bot.core.duty import parse_clock

        if value is not None and parse_clock(value) is None:
            raise ValueError(f"{value!r} is not a time of day (HH:MM)")
        return value


class PrivateReportRules(BaseModel):
    """Private reports (issue 10): how long the bot waits for an answer, where the buildings are."""

    wait_minutes: float = Field(default=30, gt=0)
    max_asks: int = Field(default=3, ge=1)
    building_locations: dict[str, tuple[float, float]] = Field(default_factory=dict)
    max_distance_km: float = Field(default=2.0, gt=0)


class CommunityRules(BaseModel):
    """Community rules: timing, duplicates, and overrides of the request taxonomy."""

    community_name: str = "本社区"
    dialogue_minutes: float = Field(default=60, gt=0)
    default: CategoryRule = CategoryRule()
    categories: dict[str, CategoryRule] = Field(default_factory=dict)
    duplicates: DuplicateRule = DuplicateRule()
    quiet_hours: QuietHours = QuietHours()
    shift_reminder_minutes: float = Field(default=15, ge=0)
    #: Messages and commands one person may send the bot per minute before the rest are ignored.
    flood_per_minute: int = Field(default=12, ge=1)
    #: Whether a message from someone who works on the building's cases (building head, grid worker,
    #: volunteer, property, admin) opens a case in the building's group like a resident's. Off: only an
    #: urgent one does; their notices and replies name problems all day, and they report in private.
    staff_messages_open_cases: bool = False
    taxonomy: dict[str, Any] | None = None
    # issue 6 (digest schedule, rating reminder, return visits):
    wall: WallRules = Field(default_factory=lambda: WallRules())
    # issue 7 (announcements, points rules):
    activities: ActivityRules = ActivityRules()
    points: PointRules = PointRules()
    # issue 10 (private reports):
    private: PrivateReportRules = Field(default_factory=lambda: PrivateReportRules())

    def rule_for(self, category: str) -> CategoryRule:
        """The timing rule of a category (the default when it has none)."""
        return self.categories.get(category, self.default)


def load_rules(path: Path | None = None) -> CommunityRules:
    """Read the community rules YAML (the shipped defaults when ``path`` is None), with clear errors."""
    source = path or DEFAULT_RULES
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ValueError(f"cannot read rules file {source}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"rules file {source} is not valid YAML: {err}") from None
    try:
        return CommunityRules.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ValueError(f"rules file {source} is invalid: {problems}") from None
