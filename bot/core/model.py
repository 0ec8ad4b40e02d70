"""Domain objects: community, buildings, chats, members, cases and the messages the bot owes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.core.roles import STAFF_ROLES, Role, ScopeKind
from bot.core.states import ACTIVE_STATES, CaseStatus


@dataclass(slots=True)
class Community:
    """A residential community (社区): the unit cases are numbered in."""

    id: int
    name: str
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-Hans"


@dataclass(slots=True)
class Building:
    """A building (楼栋) of the community, e.g. "3栋"."""

    id: int
    community_id: int
    name: str
    grid_id: int | None = None


class ChatKind(StrEnum):
    """What a Telegram chat is for, once bound."""

    UNBOUND = "unbound"
    BUILDING = "building"
    STAFF = "staff"
    ADMIN = "admin"
    PRIVATE = "private"


@dataclass(slots=True)
class Chat:
    """A Telegram chat the bot is in, and what it is bound to."""

    chat_id: int
    community_id: int
    kind: ChatKind
    title: str = ""
    building_id: int | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One role of a member, scoped to the community, a grid or a building."""

    role: Role
    scope_kind: ScopeKind = ScopeKind.COMMUNITY
    scope_id: int | None = None


@dataclass(slots=True)
class Member:
    """A person known to the bot by Telegram user id, with their roles."""

    user_id: int
    name: str
    username: str | None = None
    can_message_privately: bool = False
    roles: list[RoleGrant] = field(default_factory=list)

    def has_role(self, role: Role) -> bool:
        """True when the member holds ``role`` in any scope."""
        return any(grant.role == role for grant in self.roles)

    @property
    def is_staff(self) -> bool:
        """True when the member holds any role that works on cases."""
        return any(grant.role in STAFF_ROLES for grant in self.roles)

    def can_work_on(self, building_id: int | None) -> bool:
        """True when the member may claim and resolve a case of ``building_id``."""
        for grant in self.roles:
            if grant.role not in STAFF_ROLES:
                continue
            if grant.scope_kind != ScopeKind.BUILDING or grant.scope_id == building_id:
                return True
        return False

    def main_role(self) -> Role:
        """The role to show next to the member's name (the most senior staff role, else resident)."""
        order = [Role.ADMIN, Role.GRID_WORKER, Role.BUILDING_HEAD, Role.PROPERTY, Role.VOLUNTEER]
        held = {grant.role for grant in self.roles}
        return next((role for role in order if role in held), Role.RESIDENT)


@dataclass(slots=True)
class Case:
    """A resident's request, from the message that raised it to the echo and rating."""

    id: int | None
    community_id: int
    number: int
    category: str
    urgent: bool
    text: str
    reporter_id: int
    reporter_name: str
    chat_id: int
    message_id: int | None
    building_id: int | None
    status: CaseStatus
    created_at: datetime
    updated_at: datetime
    assignee_id: int | None = None
    assignee_name: str | None = None
    due_at: datetime | None = None
    escalation_level: int = 0
    resolved_at: datetime | None = None
    resolution_note: str | None = None
    rating: str | None = None
    source: str = "group"
    keywords: tuple[str, ...] = ()
    next_reminder_at: datetime | None = None
    reminder_stage: int = 0
    #: 派单: the one person the case was handed to, until they accept it or pass it on (转派).
    offered_to_id: int | None = None
    offered_to_name: str | None = None

    @property
    def is_active(self) -> bool:
        """True while the case still needs work."""
        return self.status in ACTIVE_STATES


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One line of a case's append-only history."""

    case_id: int
    at: datetime
    kind: str
    actor_id: int | None = None
    actor_name: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: callback data (≤64 bytes) or a URL."""

    text: str
    data: str | None = None
    url: str | None = None


class OutboxKind(StrEnum):
    """What the sender must do with an outbox row."""

    SEND = "send"
    EDIT = "edit"


class MediaKind(StrEnum):
    """What an outgoing message carries besides text (the text becomes its caption)."""

    PHOTO = "photo"
    DOCUMENT = "document"


# Outbox priorities: lower numbers leave first. Live replies go ahead of scheduled digests and broadcasts.
PRIORITY_LIVE = 0
PRIORITY_DIGEST = 5
PRIORITY_BROADCAST = 9


class OutboxStatus(StrEnum):
    """Where an outbox row is in delivery."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(slots=True)
class OutgoingMessage:
    """A message the bot owes a chat: written in the transaction that caused it, sent after commit.

    For an edit, ``edit_of`` names the outbox row whose delivered message is edited, or
    ``target_message_id`` names a message directly. ``media`` is a Telegram file id or ``file:<path>`` of a
    file to upload (a chart, an export); ``priority`` orders the queue (see PRIORITY_*).
    """

    chat_id: int
    text: str
    kind: OutboxKind = OutboxKind.SEND
    buttons: list[list[Button]] = field(default_factory=list)
    reply_to_message_id: int | None = None
    force_reply: bool = False
    edit_of: int | None = None
    target_message_id: int | None = None
    ref: str | None = None
    id: int | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    message_id: int | None = None
    not_before: datetime | None = None
    created_at: datetime | None = None
    media_kind: MediaKind | None = None
    media: str | None = None
    priority: int = 0


@dataclass(slots=True)
class Dialogue:
    """A multi-step conversation waiting for a member's next message in a chat (kept in the database)."""

    chat_id: int
    user_id: int
    kind: str
    case_id: int | None = None
    prompt_outbox_id: int | None = None
    expires_at: datetime | None = None
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PendingAsk:
    """A message the classifier was unsure about, waiting for its author's answer."""

    id: int | None
    chat_id: int
    message_id: int
    author_id: int
    author_name: str
    text: str
    category: str
    urgent: bool
    created_at: datetime
    outbox_id: int | None = None
    answer: str | None = None
