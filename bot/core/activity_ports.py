"""Ports of issue 7: what the broadcast, activity and points services need from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.core.activities import (
    Activity,
    Broadcast,
    BroadcastStatus,
    Delivery,
    PointEntry,
    Signup,
)


class BroadcastRepository(Protocol):
    """Broadcasts and how far their copies got."""

    async def add(self, broadcast: Broadcast) -> Broadcast:
        """Store a new broadcast; returns it with its id."""
        ...

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """A broadcast by id."""
        ...

    async def move(self, broadcast_id: int, old: BroadcastStatus, new: BroadcastStatus, at: datetime) -> bool:
        """Change the status only if it is still ``old`` (a second confirm press changes nothing)."""
        ...

    async def set_progress(self, broadcast_id: int, text: str) -> None:
        """Remember the progress line last shown to the admin."""
        ...

    async def sending(self, limit: int = 50) -> list[Broadcast]:
        """Broadcasts whose copies are still being sent."""
        ...

    async def mark_in_flight(self, outbox_ids: list[int]) -> None:
        """Note that these broadcast copies are about to be sent (cleared by sent, failed or retry)."""
        ...

    async def in_flight(self) -> list[int]:
        """Pending outbox rows marked in flight: a sender stopped while their request may have left."""
        ...

    async def coalesce_edit(self, chat_id: int, message_id: int, text: str) -> bool:
        """Put ``text`` into an edit of that message still waiting to be sent; False when there is none."""
        ...

    async def delivery(self, ref: str) -> Delivery:
        """Counts of the outbox rows under ``ref`` by status, with the failures."""
        ...


class ActivityRepository(Protocol):
    """Activities and their sign-ups."""

    async def add(self, activity: Activity) -> Activity:
        """Store a new activity; returns it with its id."""
        ...

    async def get(self, activity_id: int, *, for_update: bool = False) -> Activity | None:
        """An activity by id (locked against concurrent sign-ups with ``for_update`` on PostgreSQL)."""
        ...

    async def update(self, activity: Activity) -> None:
        """Save an activity's changed fields."""
        ...

    async def by_code(self, code: str) -> Activity | None:
        """The activity of a check-in code."""
        ...

    async def notices_due(self, now: datetime, limit: int = 50, *, lock: bool = False) -> list[Activity]:
        """Open activities whose next announcement time has come."""
        ...

    async def series_to_roll(self, now: datetime, limit: int = 50) -> list[Activity]:
        """Open recurring activities whose occurrence has started: the next one is due to be created."""
        ...

    async def upcoming(self, community_id: int, now: datetime, limit: int = 20) -> list[Activity]:
        """Open activities that have not started, soonest first."""
        ...

    async def signup_of(self, activity_id: int, user_id: int) -> Signup | None:
        """A member's sign-up for an activity."""
        ...

    async def signup(self, signup_id: int) -> Signup | None:
        """A sign-up by id."""
        ...

    async def save_signup(self, signup: Signup) -> Signup:
        """Insert or update a sign-up."""
        ...

    async def signups(self, activity_id: int) -> list[Signup]:
        """Every sign-up of an activity, in the order they came."""
        ...


class PointsRepository(Protocol):
    """Volunteer points (积分) and who agreed to be on the leaderboard."""

    async def add(self, entry: PointEntry) -> bool:
        """Record an entry; False when an entry with the same ``source`` exists (awarded once)."""
        ...

    async def balance(self, user_id: int) -> int:
        """A member's current balance."""
        ...

    async def history(self, user_id: int, limit: int = 10) -> list[PointEntry]:
        """A member's latest entries, newest first."""
        ...

    async def leaderboard(self, community_id: int, start: datetime, end: datetime, limit: int = 10) -> list[
        tuple[int, str, int, bool]
    ]:
        """(user id, name, points earned in [start, end), agreed to be named), best first."""
        ...

    async def resolved_since(self, since: datetime, limit: int = 500) -> list[tuple[int, int, str, int, str]]:
        """(case id, number, category, resolver id, resolver name) of cases resolved since ``since``, not yet credited."""
        ...

    async def set_consent(self, user_id: int, agreed: bool, at: datetime) -> None:
        """Agree (or stop agreeing) to be named on the leaderboard."""
        ...
