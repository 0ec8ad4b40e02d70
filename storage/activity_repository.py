"""SQL repositories of issue 7: broadcasts, activities with sign-ups, volunteer points. They never commit."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import String, case, cast, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.activities import (
    IN_FLIGHT,
    Activity,
    ActivityStatus,
    Broadcast,
    BroadcastStatus,
    Delivery,
    PointEntry,
    Signup,
    SignupStatus,
)
from bot.core.model import MediaKind, OutboxStatus
from storage.models import (
    ActivityRow,
    ActivitySignupRow,
    BroadcastRow,
    CaseEventRow,
    CaseRow,
    LeaderboardConsentRow,
    OutboxRow,
    PointEntryRow,
)


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session


def _broadcast(row: BroadcastRow) -> Broadcast:
    return Broadcast(
        id=row.id,
        community_id=row.community_id,
        author_id=row.author_id,
        chat_id=row.chat_id,
        audience=row.audience,
        targets=[int(t) for t in json.loads(row.targets or "[]")],
        text=row.text,
        created_at=row.created_at,
        media_kind=MediaKind(row.media_kind) if row.media_kind else None,
        media=row.media,
        status=BroadcastStatus(row.status),
        progress_text=row.progress_text or "",
        confirmed_at=row.confirmed_at,
        finished_at=row.finished_at,
    )


class SqlBroadcastRepository(_Repo):
    """Broadcasts and how far their copies got."""

    async def add(self, broadcast: Broadcast) -> Broadcast:
        """Store a new broadcast; returns it with its id."""
        row = BroadcastRow(
            community_id=broadcast.community_id,
            author_id=broadcast.author_id,
            chat_id=broadcast.chat_id,
            audience=broadcast.audience[:255],
            targets=json.dumps(broadcast.targets),
            text=broadcast.text,
            media_kind=broadcast.media_kind.value if broadcast.media_kind else None,
            media=broadcast.media,
            status=broadcast.status.value,
            progress_text=broadcast.progress_text,
            created_at=broadcast.created_at,
        )
        self.s.add(row)
        await self.s.flush()
        broadcast.id = row.id
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """A broadcast by id."""
        row = await self.s.get(BroadcastRow, broadcast_id, populate_existing=True)
        return _broadcast(row) if row else None

    async def move(self, broadcast_id: int, old: BroadcastStatus, new: BroadcastStatus, at: datetime) -> bool:
        """Change the status only if it is still ``old`` (a second confirm press changes nothing)."""
        values: dict[str, object] = {"status": new.value}
        if new == BroadcastStatus.SENDING:
            values["confirmed_at"] = at
        elif new in (BroadcastStatus.DONE, BroadcastStatus.CANCELLED):
            values["finished_at"] = at
        result = await self.s.execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id, BroadcastRow.status == old.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_progress(self, broadcast_id: int, text: str) -> None:
        """Remember the progress line last shown to the admin."""
        await self.s.execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id)
            .values(progress_text=text)
            .execution_options(synchronize_session=False)
        )

    async def sending(self, limit: int = 50) -> list[Broadcast]:
        """Broadcasts whose copies are still being sent."""
        rows = await self.s.scalars(
            select(BroadcastRow)
            .where(BroadcastRow.status == BroadcastStatus.SENDING.value)
            .order_by(BroadcastRow.id)
            .limit(limit)
        )
        return [_broadcast(row) for row in rows]

    async def mark_in_flight(self, outbox_ids: list[int]) -> None:
        """Note that these broadcast copies are about to be sent (cleared by sent, failed or retry)."""
        await self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(outbox_ids))
            .values(error=IN_FLIGHT)
            .execution_options(synchronize_session=False)
        )

    async def in_flight(self) -> list[int]:
        """Pending outbox rows marked in flight: a sender stopped while their request may have left."""
        rows = await self.s.scalars(
            select(OutboxRow.id).where(OutboxRow.status == OutboxStatus.PENDING.value, OutboxRow.error == IN_FLIGHT)
        )
        return [int(r) for r in rows]

    async def coalesce_edit(self, chat_id: int, message_id: int, text: str) -> bool:
        """Put ``text`` into an edit of that message still waiting to be sent; False when there is none."""
        result = await self.s.execute(
            update(OutboxRow)
            .where(
                OutboxRow.chat_id == chat_id,
                OutboxRow.target_message_id == message_id,
                OutboxRow.kind == "edit",
                OutboxRow.status == OutboxStatus.PENDING.value,
                OutboxRow.attempts == 0,
            )
            .values(text=text)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delivery(self, ref: str) -> Delivery:
        """Counts of the outbox rows under ``ref`` by status, with the failures (chat id, reason)."""
        counts = dict(
            (
                await self.s.execute(
                    select(OutboxRow.status, func.count())
                    .where(OutboxRow.ref == ref, OutboxRow.kind == "send")
                    .group_by(OutboxRow.status)
                )
            ).all()
        )
        failures: list[tuple[int, str]] = []
        if counts.get(OutboxStatus.FAILED.value):
            rows = await self.s.execute(
                select(OutboxRow.chat_id, OutboxRow.error)
                .where(OutboxRow.ref == ref, OutboxRow.kind == "send", OutboxRow.status == OutboxStatus.FAILED.value)
                .order_by(OutboxRow.id)
            )
            failures = [(int(chat_id), error or "") for chat_id, error in rows.all()]
        return Delivery(
            pending=int(counts.get(OutboxStatus.PENDING.value, 0)),
            sent=int(counts.get(OutboxStatus.SENT.value, 0)),
            failed=int(counts.get(OutboxStatus.FAILED.value, 0)),
            failures=failures,
        )


def _activity(row: ActivityRow) -> Activity:
    return Activity(
        id=row.id,
        community_id=row.community_id,
        title=row.title,
        starts_at=row.starts_at,
        capacity=row.capacity,
        organiser_id=row.organiser_id,
        created_at=row.created_at,
        description=row.description or "",
        place=row.place or "",
        rule=row.rule,
        audience=row.audience or "",
        targets=[int(t) for t in json.loads(row.targets or "[]")],
        signup_deadline=row.signup_deadline,
        checkin_code=row.checkin_code,
        status=ActivityStatus(row.status),
        next_notice_at=row.next_notice_at,
        notices_sent=row.notices_sent or 0,
        shown=row.shown or "",
    )


def _signup(row: ActivitySignupRow) -> Signup:
    return Signup(
        row.id, row.activity_id, row.user_id, row.name, SignupStatus(row.status), row.created_at, row.attended_at
    )


class SqlActivityRepository(_Repo):
    """Activities and their sign-ups."""

    async def add(self, activity: Activity) -> Activity:
        """Store a new activity; returns it with its id."""
        row = ActivityRow(community_id=activity.community_id, created_at=activity.created_at)
        self._fill(row, activity)
        self.s.add(row)
        await self.s.flush()
        activity.id = row.id
        return activity

    @staticmethod
    def _fill(row: ActivityRow, activity: Activity) -> None:
        row.title = activity.title[:100]
        row.description = activity.description
        row.place = activity.place[:100]
        row.starts_at = activity.starts_at
        row.rule = activity.rule
        row.audience = activity.audience[:255]
        row.targets = json.dumps(activity.targets)
        row.capacity = activity.capacity
        row.signup_deadline = activity.signup_deadline
        row.organiser_id = activity.organiser_id
        row.checkin_code = activity.checkin_code
        row.status = activity.status.value
        row.next_notice_at = activity.next_notice_at
        row.notices_sent = activity.notices_sent
        row.shown = activity.shown

    async def get(self, activity_id: int, *, for_update: bool = False) -> Activity | None:
        """An activity by id (locked against concurrent sign-ups with ``for_update`` on PostgreSQL)."""
        query = select(ActivityRow).where(ActivityRow.id == activity_id)
        if for_update:
            query = query.with_for_update()
        row = await self.s.scalar(query.execution_options(populate_existing=True))
        return _activity(row) if row else None

    async def update(self, activity: Activity) -> None:
        """Save an activity's changed fields."""
        row = await self.s.get(ActivityRow, activity.id)
        if row is not None:
            self._fill(row, activity)
            await self.s.flush()

    async def by_code(self, code: str) -> Activity | None:
        """The activity of a check-in code."""
        row = await self.s.scalar(select(ActivityRow).where(ActivityRow.checkin_code == code))
        return _activity(row) if row else None

    async def notices_due(self, now: datetime, limit: int = 50, *, lock: bool = False) -> list[Activity]:
        """Open activities whose next announcement time has come."""
        query = (
            select(ActivityRow)
            .where(
                ActivityRow.status == ActivityStatus.OPEN.value,
                ActivityRow.next_notice_at.is_not(None),
                ActivityRow.next_notice_at <= now,
            )
            .order_by(ActivityRow.next_notice_at)
            .limit(limit)
        )
        if lock:
            query = query.with_for_update(skip_locked=True)
        return [_activity(row) for row in await self.s.scalars(query)]

    async def series_to_roll(self, now: datetime, limit: int = 50) -> list[Activity]:
        """Open recurring activities whose occurrence has started: the next one is due to be created."""
        rows = await self.s.scalars(
            select(ActivityRow)
            .where(
                ActivityRow.status == ActivityStatus.OPEN.value,
                ActivityRow.rule.is_not(None),
                ActivityRow.starts_at <= now,
            )
            .order_by(ActivityRow.starts_at)
            .limit(limit)
        )
        return [_activity(row) for row in rows]

    async def upcoming(self, community_id: int, now: datetime, limit: int = 20) -> list[Activity]:
        """Open activities that have not started, soonest first."""
        rows = await self.s.scalars(
            select(ActivityRow)
            .where(
                ActivityRow.community_id == community_id,
                ActivityRow.status == ActivityStatus.OPEN.value,
                ActivityRow.starts_at > now,
            )
            .order_by(ActivityRow.starts_at)
            .limit(limit)
        )
        return [_activity(row) for row in rows]

    async def signup_of(self, activity_id: int, user_id: int) -> Signup | None:
        """A member's sign-up for an activity."""
        row = await self.s.scalar(
            select(ActivitySignupRow).where(
                ActivitySignupRow.activity_id == activity_id, ActivitySignupRow.user_id == user_id
            )
        )
        return _signup(row) if row else None

    async def signup(self, signup_id: int) -> Signup | None:
        """A sign-up by id."""
        row = await self.s.get(ActivitySignupRow, signup_id)
        return _signup(row) if row else None

    async def save_signup(self, signup: Signup) -> Signup:
        """Insert or update a sign-up."""
        row = await self.s.get(ActivitySignupRow, signup.id) if signup.id is not None else None
        if row is None:
            row = ActivitySignupRow(activity_id=signup.activity_id, user_id=signup.user_id)
            self.s.add(row)
        row.name = signup.name[:255]
        row.status = signup.status.value
        row.created_at = signup.created_at
        row.attended_at = signup.attended_at
        await self.s.flush()
        signup.id = row.id
        return signup

    async def signups(self, activity_id: int) -> list[Signup]:
        """Every sign-up of an activity, in the order they came (a re-sign-up goes to the back)."""
        rows = await self.s.scalars(
            select(ActivitySignupRow)
            .where(ActivitySignupRow.activity_id == activity_id)
            .order_by(ActivitySignupRow.created_at, ActivitySignupRow.id)
        )
        return [_signup(row) for row in rows]


class SqlPointsRepository(_Repo):
    """Volunteer points (积分) and who agreed to be on the leaderboard."""

    async def add(self, entry: PointEntry) -> bool:
        """Record an entry; False when an entry with the same ``source`` exists (awarded once)."""
        if entry.source is not None:
            taken = await self.s.scalar(select(PointEntryRow.id).where(PointEntryRow.source == entry.source))
            if taken is not None:
                return False
        try:
            async with self.s.begin_nested():
                self.s.add(
                    PointEntryRow(
                        community_id=entry.community_id,
                        user_id=entry.user_id,
                        name=entry.name[:255],
                        delta=entry.delta,
                        kind=entry.kind,
                        reason=entry.reason,
                        source=entry.source,
                        by_user_id=entry.by_user_id,
                        at=entry.at,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def balance(self, user_id: int) -> int:
        """A member's current balance."""
        total = await self.s.scalar(select(func.sum(PointEntryRow.delta)).where(PointEntryRow.user_id == user_id))
        return int(total or 0)

    async def history(self, user_id: int, limit: int = 10) -> list[PointEntry]:
        """A member's latest entries, newest first."""
        rows = await self.s.scalars(
            select(PointEntryRow)
            .where(PointEntryRow.user_id == user_id)
            .order_by(PointEntryRow.at.desc(), PointEntryRow.id.desc())
            .limit(limit)
        )
        return [
            PointEntry(r.community_id, r.user_id, r.name, r.delta, r.kind, r.reason, r.at, r.source, r.by_user_id)
            for r in rows
        ]

    async def leaderboard(
        self, community_id: int, start: datetime, end: datetime, limit: int = 10
    ) -> list[tuple[int, str, int, bool]]:
        """(user id, name, points earned in [start, end), agreed to be named), best first; redemptions don't count."""
        earned = func.sum(case((PointEntryRow.delta > 0, PointEntryRow.delta), else_=0)).label("earned")
        rows = await self.s.execute(
            select(PointEntryRow.user_id, func.max(PointEntryRow.name), earned, LeaderboardConsentRow.user_id)
            .outerjoin(LeaderboardConsentRow, LeaderboardConsentRow.user_id == PointEntryRow.user_id)
            .where(
                PointEntryRow.community_id == community_id,
                PointEntryRow.at >= start,
                PointEntryRow.at < end,
                PointEntryRow.delta > 0,
            )
            .group_by(PointEntryRow.user_id, LeaderboardConsentRow.user_id)
            .order_by(earned.desc(), PointEntryRow.user_id)
            .limit(limit)
        )
        return [(int(uid), str(name), int(points), consent is not None) for uid, name, points, consent in rows.all()]

    async def resolved_since(self, since: datetime, limit: int = 500) -> list[tuple[int, int, str, int, str]]:
        """(case id, number, category, resolver id, resolver name) of cases resolved since ``since``, not yet credited.

        Credits carry ``source = case:<case id>``; the case number is what people read.
        """
        rows = await self.s.execute(
            select(CaseRow.id, CaseRow.number, CaseRow.category, CaseEventRow.actor_id, CaseEventRow.actor_name)
            .join(CaseRow, CaseRow.id == CaseEventRow.case_id)
            .outerjoin(PointEntryRow, PointEntryRow.source == literal("case:") + cast(CaseEventRow.case_id, String))
            .where(
                CaseEventRow.kind == "resolved",
                CaseEventRow.at >= since,
                CaseEventRow.actor_id.is_not(None),
                PointEntryRow.id.is_(None),
            )
            .order_by(CaseEventRow.id)
            .limit(limit)
        )
        return [
            (int(cid), int(number), str(cat), int(actor), str(name or actor))
            for cid, number, cat, actor, name in rows.all()
        ]

    async def set_consent(self, user_id: int, agreed: bool, at: datetime) -> None:
        """Agree (or stop agreeing) to be named on the leaderboard."""
        row = await self.s.get(LeaderboardConsentRow, user_id)
        if agreed and row is None:
            self.s.add(LeaderboardConsentRow(user_id=user_id, agreed_at=at))
        elif not agreed and row is not None:
            await self.s.delete(row)
        await self.s.flush()
