"""SQLAlchemy table models. Telegram ids are BIGINT; times are stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        """Store as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of all table models."""


class CommunityRow(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(16), default="zh-Hans")
    next_case_no: Mapped[int] = mapped_column(Integer, default=1)


class GridRow(Base):
    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(100))
    __table_args__ = (UniqueConstraint("community_id", "name"),)


class BuildingRow(Base):
    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    __table_args__ = (UniqueConstraint("community_id", "name"),)


class ChatRow(Base):
    __tablename__ = "chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(String(16), default="unbound")
    title: Mapped[str] = mapped_column(String(255), default="")
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (Index("ix_chats_kind", "community_id", "kind"),)


class MemberRow(Base):
    __tablename__ = "members"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    can_message_privately: Mapped[bool] = mapped_column(Boolean, default=False)


class RoleGrantRow(Base):
    __tablename__ = "member_roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.user_id"))
    role: Mapped[str] = mapped_column(String(32))
    scope_kind: Mapped[str] = mapped_column(String(16), default="community")
    scope_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    __table_args__ = (
        UniqueConstraint("user_id", "role", "scope_kind", "scope_id"),
        Index("ix_member_roles_role", "role", "scope_kind", "scope_id"),
    )


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    number: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[int] = mapped_column(BigInteger)
    reporter_name: Mapped[str] = mapped_column(String(255))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    assignee_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    rating: Mapped[str | None] = mapped_column(String(16), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="group")
    keywords: Mapped[str | None] = mapped_column(String(255), nullable=True)
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reminder_stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    offered_to_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    offered_to_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        Index("ix_cases_next_reminder", "next_reminder_at"),
        Index("ix_cases_status_due", "status", "due_at"),
        Index("ix_cases_assignee", "assignee_id", "status"),
        Index("ix_cases_reporter", "reporter_id", "status"),
        Index("ix_cases_building", "building_id", "status"),
        Index("ix_cases_chat_message", "chat_id", "message_id"),
    )


class CaseSupporterRow(Base):
    __tablename__ = "case_supporters"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class KeywordChangeRow(Base):
    __tablename__ = "keyword_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    word: Mapped[str] = mapped_column(String(64))
    weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    by_user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseEventRow(Base):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actor_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), default="send")
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[str | None] = mapped_column(Text, nullable=True)
    reply_to_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    force_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    edit_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    media_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    media: Mapped[str | None] = mapped_column(Text, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (
        Index("ix_outbox_pending", "status", "priority", "id"),
        Index("ix_outbox_chat_message", "chat_id", "message_id"),
    )


class InboxRow(Base):
    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (Index("ix_inbox_pending", "handled_at", "dead", "update_id"),)


class DialogueRow(Base):
    __tablename__ = "dialogues"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_outbox_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    step: Mapped[str] = mapped_column(String(32), default="", server_default="")
    data: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


class PendingAskRow(Base):
    __tablename__ = "pending_asks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int] = mapped_column(BigInteger)
    author_name: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outbox_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answer: Mapped[str | None] = mapped_column(String(32), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HeartbeatRow(Base):
    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(Text, default="{}")


class RosterRow(Base):
    """A person of the imported roster; linked to a Telegram user by id or a one-time invite code."""

    __tablename__ = "roster"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    person_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    roles: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    invite_code: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True)
    __table_args__ = (UniqueConstraint("community_id", "person_key"),)


class ShiftRow(Base):
    """A duty shift of a roster person over an area (building, grid or the whole community)."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("roster.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    area_kind: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    __table_args__ = (
        UniqueConstraint("roster_id", "starts_at", "area_kind", "area_id"),
        Index("ix_shifts_time", "starts_at", "ends_at"),
        Index("ix_shifts_unreminded", "reminded_at", "starts_at"),
    )


# ---- say-it wall, echo board, return visits, reports (issue 6) ------------------------------------


class WallSlotRow(Base):
    """The last scheduled slot a digest or report handled (``digest:<chat_id>``, ``report:week`` …), and
    the fingerprint of the board last posted, so a restart never posts twice and an unchanged board never."""

    __tablename__ = "wall_slots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CaseFollowupRow(Base):
    """After resolution: the rating reminder, the monthly return visit (月回访) and its answer."""

    __tablename__ = "case_followups"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)
    rating_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    visit_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    visit_answer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    visit_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    linked_case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PublicNameRow(Base):
    """A resident who chose to be named on the say-it wall (``/named on``) instead of "3栋住户"."""

    __tablename__ = "public_names"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    named: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---- activities, broadcasts, volunteer points (issue 7) -------------------------------------------


class BroadcastRow(Base):
    """A free-form broadcast by an admin: drafted, previewed, confirmed, then sent to every target group."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    audience: Mapped[str] = mapped_column(String(255))
    targets: Mapped[str] = mapped_column(Text, default="[]")
    text: Mapped[str] = mapped_column(Text, default="")
    media_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    media: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    progress_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    __table_args__ = (Index("ix_broadcasts_status", "status"),)


class ActivityRow(Base):
    """A community activity (one-off, or recurring by a cron rule) with its audience and capacity."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(100), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rule: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audience: Mapped[str] = mapped_column(String(255), default="")
    targets: Mapped[str] = mapped_column(Text, default="[]")
    capacity: Mapped[int] = mapped_column(Integer)
    signup_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    organiser_id: Mapped[int] = mapped_column(BigInteger)
    checkin_code: Mapped[str | None] = mapped_column(String(12), nullable=True, unique=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notices_sent: Mapped[int] = mapped_column(Integer, default=0)
    shown: Mapped[str] = mapped_column(String(32), default="")
    __table_args__ = (Index("ix_activities_notice", "status", "next_notice_at"),)


class ActivitySignupRow(Base):
    """A resident's sign-up for an activity: going, waiting (in order) or cancelled; attended when checked in."""

    __tablename__ = "activity_signups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id"),
        Index("ix_signups_activity", "activity_id", "status", "id"),
    )


class PointEntryRow(Base):
    """One line of a member's volunteer points (积分): earned (+) or redeemed (−), with the reason."""

    __tablename__ = "point_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(255))
    delta: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    by_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LeaderboardConsentRow(Base):
    """A member who agreed to be named on the volunteer leaderboard."""

    __tablename__ = "leaderboard_consents"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---- private and anonymous reports, attachments, relays (issue 10) --------------------------------


class ResidentBuildingRow(Base):
    """The building a resident said they live in (asked once in private, changed with /mybuilding)."""

    __tablename__ = "resident_buildings"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PrivateCaseRow(Base):
    """What a privately reported (or staff-registered) case carries besides the case row."""

    __tablename__ = "private_cases"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="private")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    relay_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CaseNoteRow(Base):
    """A photo, a resident's comment or a relayed message attached to a case."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[str | None] = mapped_column(Text, nullable=True)
