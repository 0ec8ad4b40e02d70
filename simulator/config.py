"""Settings of the Telegram Bot API simulator: the bot's identity, the rate limits and timeouts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_BOT_ID = 7000000001


@dataclass(slots=True)
class Limits:
    """Telegram's flood limits as the simulator enforces them (all configurable, all switchable off)."""

    enabled: bool = True
    global_per_s: int = 30
    per_chat_per_s: float = 1.0
    per_chat_burst: int = 3
    per_group_per_min: int = 20
    count_edits: bool = False

    def update(self, **changes: Any) -> None:
        """Change the named limits in place, refusing unknown names."""
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown limit: {name}")
            if value is not None:
                setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        """Return the limits as a JSON-ready dict."""
        return asdict(self)


@dataclass(slots=True)
class SimulatorConfig:
    """Everything that shapes one simulated Bot API server."""

    token: str | None = None  # None: any token is accepted
    bot_id: int | None = None  # None: taken from `token`, else from the first token seen, else DEFAULT_BOT_ID
    bot_username: str = "linli_shuoshi_bot"
    bot_first_name: str = "邻里说事"
    can_join_groups: bool = True
    can_read_all_group_messages: bool = True  # False = privacy mode on
    supports_inline_queries: bool = False
    limits: Limits = field(default_factory=Limits)
    callback_answer_timeout: float = 15.0  # seconds after which answerCallbackQuery is refused, like Telegram
    events_kept: int = 20_000  # size of the event ring buffer behind /_sim/events and /_sim/wait_event
    webhook_retry_delay: float = 0.5
    max_upload_bytes: int = 50 * 1024 * 1024
    max_download_bytes: int = 20 * 1024 * 1024
    first_update_id: int = 1  # a bot restarted against a new simulator may already have confirmed ids below
    page_title: str = "邻里说事 · 本地模拟器"  # shown by the web chat page at /
