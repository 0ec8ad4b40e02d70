"""Domain objects of issue 7: broadcasts, community activities with sign-ups, and volunteer points."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.model import MediaKind

#: the outbox ``error`` of a broadcast copy whose request is leaving (see bot/outbox.py)
IN_FLIGHT = "in flight"


class BroadcastStatus(StrEnum):
    """Where a broadcast is: drafted (preview shown), sending, done, or cancelled before sending."""

    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class Broadcast:
    """An admin's message to every group of an audience; its outbox rows carry ``ref`` = ``bc:<id>``."""

    id: int | None
    community_id: int
    author_id: int
    chat_id: int
    audience: str
    targets: list[int]
    text: str
    created_at: datetime
    media_kind: MediaKind | None = None
    media: str | None = None
    status: BroadcastStatus = BroadcastStatus.DRAFT
    progress_text: str = ""
    confirmed_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def ref(self) -> str:
        """The outbox reference of the copies sent to the groups."""
        return f"bc:{self.id}"

    @property
    def progress_ref(self) -> str:
        """The outbox reference of the admin's progress message."""
        return f"bcp:{self.id}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """How far a broadcast's copies got: rows pending, sent and failed (with each failure's chat and reason)."""

    pending: int
    sent: int
    failed: int
    failures: list[tuple[int, str]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True when nothing is left to send."""
        return self.pending == 0


class ActivityStatus(StrEnum):
    """An activity is drafted (previewed to its organiser), open for sign-ups, or cancelled."""

    DRAFT = "draft"
    OPEN = "open"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class Activity:
    """A community activity (社区活动): one-off, or recurring by a cron ``rule`` (then ``starts_at`` is the next)."""

    id: int | None
    community_id: int
    title: str
    starts_at: datetime
    capacity: int
    organiser_id: int
    created_at: datetime
    description: str = ""
    place: str = ""
    rule: str | None = None
    audience: str = ""
    targets: list[int] = field(default_factory=list)
    signup_deadline: datetime | None = None
    checkin_code: str | None = None
    status: ActivityStatus = ActivityStatus.OPEN
    next_notice_at: datetime | None = None
    notices_sent: int = 0
    #: the sign-up count last shown on every announcement ("going/waiting"); a sweep refreshes the rest
    shown: str = ""

    @property
    def ref(self) -> str:
        """The outbox reference of the announcements posted in the groups (edited with the live count)."""
        return f"act:{self.id}"


class SignupStatus(StrEnum):
    """A sign-up holds a place, waits for one, or was cancelled."""

    GOING = "going"
    WAITING = "waiting"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class Signup:
    """One member's sign-up for an activity."""

    id: int | None
    activity_id: int
    user_id: int
    name: str
    status: SignupStatus
    created_at: datetime
    attended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PointEntry:
    """One line of a member's volunteer points (积分); ``source`` makes an award happen once."""

    community_id: int
    user_id: int
    name: str
    delta: int
    kind: str
    reason: str
    at: datetime
    source: str | None = None
    by_user_id: int | None = None
