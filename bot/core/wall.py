"""Domain state of the say-it wall's schedules and of a case's follow-ups after resolution (issue 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class WallSlot:
    """The last slot a scheduled digest or report handled, and the fingerprint of what it last posted."""

    key: str
    slot_at: datetime
    fingerprint: str | None = None
    posted_at: datetime | None = None


@dataclass(slots=True)
class CaseFollowup:
    """What happened after a case was resolved: rating reminder, return visit and its answer."""

    case_id: int
    rating_reminded_at: datetime | None = None
    visit_asked_at: datetime | None = None
    visit_answer: str | None = None
    visit_answered_at: datetime | None = None
    linked_case_id: int | None = None
