"""Private and anonymous reports: what a case reported in private carries, and where it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.model import Case, Dialogue

#: Where a case came from when it was not a message in a building group.
SOURCES = ("private", "phone", "visit", "patrol")


@dataclass(slots=True)
class PrivateCase:
    """A privately reported (or staff-registered) case's extras: anonymity, source, location, relay partner."""

    case_id: int
    anonymous: bool = False
    source: str = "private"
    latitude: float | None = None
    longitude: float | None = None
    relay_staff_id: int | None = None


@dataclass(frozen=True, slots=True)
class CaseNote:
    """A photo, a resident's comment or a relayed message attached to a case."""

    case_id: int
    at: datetime
    kind: str
    author_id: int | None = None
    text: str = ""
    file_id: str | None = None


class ReportRepository(Protocol):
    """Residents' buildings, private cases' extras and notes."""

    async def building_of(self, user_id: int) -> int | None:
        """The building a resident said they live in."""
        ...

    async def set_building(self, user_id: int, building_id: int, at: datetime) -> None:
        """Remember (or change) a resident's building."""
        ...

    async def add_private(self, extra: PrivateCase) -> None:
        """Store a private case's extras."""
        ...

    async def private_of(self, case_id: int) -> PrivateCase | None:
        """A case's private extras (None for a case raised in a group)."""
        ...

    async def set_relay_staff(self, case_id: int, user_id: int) -> None:
        """Remember the staff member who last wrote to the reporter through the bot."""
        ...

    async def add_note(self, note: CaseNote) -> None:
        """Attach a photo, comment or relayed message to a case."""
        ...

    async def notes(self, case_id: int) -> list[CaseNote]:
        """A case's notes, oldest first."""
        ...

    async def reported_by(self, user_id: int, limit: int = 10) -> list[Case]:
        """The latest cases a member reported, in any state, newest first."""
        ...

    async def expired_dialogues(self, kinds: tuple[str, ...], now: datetime, limit: int, *, lock: bool = False) -> list[Dialogue]:
        """Dialogues of some kinds whose time ran out."""
        ...
