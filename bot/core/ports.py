"""Ports: what the services need from storage and from Telegram, as interfaces the adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from bot.core.activity_ports import ActivityRepository, BroadcastRepository, PointsRepository
from bot.core.duty import RosterPerson, Shift
from bot.core.model import (
    Building,
    Case,
    CaseEvent,
    Chat,
    ChatKind,
    Community,
    Dialogue,
    Member,
    OutboxStatus,
    OutgoingMessage,
    PendingAsk,
    RoleGrant,
)
from bot.core.private_reports import ReportRepository  # issue 10
from bot.core.roles import Role


class CommunityRepository(Protocol):
    """Communities and their case counters."""

    async def default(self) -> Community:
        """The community this installation serves (created on first use)."""
        ...

    async def next_case_number(self, community_id: int) -> int:
        """Reserve the next readable case number of the community."""
        ...


class BuildingRepository(Protocol):
    """Buildings of a community."""

    async def get(self, building_id: int) -> Building | None:
        """A building by id."""
        ...

    async def get_or_create(self, community_id: int, name: str) -> Building:
        """The building of that name, created when new."""
        ...

    async def list(self, community_id: int) -> list[Building]:
        """All buildings of a community, by name."""
        ...

    async def lock(self, building_id: int) -> None:
        """Hold the building's row until the transaction ends, so that two reports from one building are
        registered one after the other (the second sees the first's case and merges into it)."""
        ...


class ChatRepository(Protocol):
    """Telegram chats the bot is in and their bindings."""

    async def get(self, chat_id: int) -> Chat | None:
        """A chat by Telegram id."""
        ...

    async def save(self, chat: Chat) -> None:
        """Insert or update a chat."""
        ...

    async def of_kind(self, community_id: int, kind: ChatKind) -> list[Chat]:
        """Active chats of a kind (e.g. the staff groups)."""
        ...

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """Move a chat, its cases and its pending messages to a new id (group → supergroup)."""
        ...


class MemberRepository(Protocol):
    """Members and their roles."""

    async def get(self, user_id: int) -> Member | None:
        """A member by Telegram user id, with roles."""
        ...

    async def seen(self, user_id: int, name: str, username: str | None) -> Member:
        """Record that a user was seen (name may change); returns the member with roles."""
        ...

    async def set_private_chat(self, user_id: int, ok: bool) -> None:
        """Record whether the bot can message the user privately."""
        ...

    async def grant(self, user_id: int, grant: RoleGrant) -> bool:
        """Give a role; False when the member already had it."""
        ...

    async def revoke(self, user_id: int, role: Role | None) -> int:
        """Take a role (or all roles when None) back; returns how many were removed."""
        ...

    async def with_role(self, role: Role, building_id: int | None = None) -> list[Member]:
        """Members holding ``role`` (scoped to ``building_id`` or community-wide)."""
        ...


class CaseRepository(Protocol):
    """Cases and their event log."""

    async def add(self, case: Case) -> Case:
        """Insert a case; returns it with its id."""
        ...

    async def get(self, case_id: int, *, for_update: bool = False) -> Case | None:
        """A case by id, locked for update when asked."""
        ...

    async def by_number(self, community_id: int, number: int) -> Case | None:
        """A case by its readable number."""
        ...

    async def by_message(self, chat_id: int, message_id: int) -> Case | None:
        """The case a group message opened (its source message), if any."""
        ...

    async def update(self, case: Case) -> None:
        """Write a changed case back."""
        ...

    async def add_event(self, event: CaseEvent) -> None:
        """Append to a case's history."""
        ...

    async def events(self, case_id: int) -> list[CaseEvent]:
        """A case's history, oldest first."""
        ...

    async def active_for_assignee(self, user_id: int) -> list[Case]:
        """Active cases assigned to a member."""
        ...

    async def active_for_reporter(self, user_id: int) -> list[Case]:
        """Active cases a member reported."""
        ...

    async def count_active(self, community_id: int) -> int:
        """How many cases of the community still need work."""
        ...

    async def set_reminders(self, cases: Sequence[Case]) -> None:
        """Write back the reminder state of many cases at once."""
        ...

    async def supporter_counts(self, case_ids: Sequence[int]) -> dict[int, int]:
        """Supporters per case, for many cases at once."""
        ...

    async def set_reminder(self, case: Case) -> None:
        """Write back only a case's reminder state."""
        ...

    async def due_for_reminder(self, now: datetime, limit: int, *, lock: bool = False) -> list[Case]:
        """Cases whose next reminder is due, oldest due first."""
        ...

    async def active_in_buildings(self, building_ids: list[int] | None, limit: int = 30) -> list[Case]:
        """Active cases of some buildings (every building when None)."""
        ...

    async def similar_active(self, building_id: int, category: str, since: datetime) -> list[Case]:
        """Active cases of a category in a building opened since ``since``, newest first."""
        ...

    async def add_supporter(self, case_id: int, user_id: int, name: str, at: datetime) -> bool:
        """Record a resident affected by a case (+1); False when already recorded."""
        ...

    async def supporter_count(self, case_id: int) -> int:
        """How many residents besides the reporter said they are affected."""
        ...

    async def supporter_names(self, case_ids: Sequence[int]) -> list[str]:
        """The names of the residents who said they are affected by any of these cases."""
        ...


class OutboxRepository(Protocol):
    """Messages the bot owes, and their delivery."""

    async def add(self, message: OutgoingMessage) -> int:
        """Queue a message; returns its outbox id."""
        ...

    async def add_many(self, messages: Sequence[OutgoingMessage]) -> int:
        """Queue many messages at once (no ids back); returns how many."""
        ...

    async def by_ref(self, ref: str) -> list[OutgoingMessage]:
        """Queued or sent messages with a reference (e.g. a case's dispatch cards)."""
        ...

    async def due(self, now: datetime, limit: int) -> list[OutgoingMessage]:
        """Pending messages whose time has come, oldest first."""
        ...

    async def ref_at(self, chat_id: int, message_id: int) -> str | None:
        """The reference of the bot's delivered message ``message_id`` in a chat (e.g. a case card), if any."""
        ...

    async def message_id_of(self, outbox_id: int) -> tuple[int, int] | None:
        """(chat_id, message_id) of a delivered outbox row, or None while it is undelivered."""
        ...

    async def status_of(self, outbox_id: int) -> OutboxStatus | None:
        """The delivery status of an outbox row."""
        ...

    async def mark_sent(self, outbox_id: int, message_id: int | None, at: datetime) -> None:
        """Record delivery."""
        ...

    async def fail_pending_for_chat(self, chat_id: int, error: str, at: datetime) -> int:
        """Give up on every pending message to a chat the bot can no longer reach."""
        ...

    async def mark_failed(self, outbox_id: int, error: str, at: datetime) -> None:
        """Give up on a message, with the reason."""
        ...

    async def retry_later(self, outbox_id: int, not_before: datetime, error: str) -> None:
        """Count an attempt and try again after ``not_before``."""
        ...

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many messages wait, and when the oldest was queued."""
        ...


class InboxRepository(Protocol):
    """Updates received from Telegram, committed before they are confirmed."""

    async def store(self, updates: Sequence[tuple[int, str]], at: datetime) -> int:
        """Store (update_id, raw JSON) pairs, ignoring ids already stored; returns how many were new."""
        ...

    async def claim(self, update_id: int, at: datetime) -> bool:
        """Mark an update handled; False when it already was (a repeat delivery changes nothing)."""
        ...

    async def unhandled(self, limit: int, *, lock: bool = False) -> list[tuple[int, str, int]]:
        """(update_id, raw JSON, attempts) of updates not yet handled, oldest first (locked, skipping
        rows other instances hold, when ``lock``)."""
        ...

    async def is_handled(self, update_id: int) -> bool:
        """True when an update was handled."""
        ...

    async def record_failure(self, update_id: int, error: str, dead: bool, at: datetime) -> None:
        """Count a failed attempt; ``dead`` parks the update as a dead letter."""
        ...

    async def counts(self) -> dict[str, int]:
        """Backlog and dead-letter counts."""
        ...

    async def last_update_id(self) -> int | None:
        """The highest update id ever stored."""
        ...

    async def dead_letters(self, limit: int = 50) -> list[tuple[int, int, str]]:
        """Parked updates as (update_id, attempts, error)."""
        ...

    async def retry(self, update_id: int) -> bool:
        """Put a dead letter back in the queue."""
        ...


class HeartbeatRepository(Protocol):
    """Liveness of the running instances' loops."""

    async def beat(self, name: str, at: datetime, detail: dict[str, object]) -> None:
        """Record that ``name`` is alive."""
        ...

    async def all(self) -> dict[str, tuple[datetime, dict[str, object]]]:
        """Every heartbeat by name."""
        ...


class DialogueRepository(Protocol):
    """Multi-step dialogues waiting for a member's next message."""

    async def get(self, chat_id: int, user_id: int) -> Dialogue | None:
        """The dialogue of a member in a chat."""
        ...

    async def put(self, dialogue: Dialogue) -> None:
        """Start or replace a dialogue."""
        ...

    async def delete(self, chat_id: int, user_id: int) -> None:
        """End a dialogue."""
        ...


class AskRepository(Protocol):
    """Questions to authors about messages the classifier was unsure of."""

    async def add(self, ask: PendingAsk) -> PendingAsk:
        """Store a question; returns it with its id."""
        ...

    async def get(self, ask_id: int) -> PendingAsk | None:
        """A question by id."""
        ...

    async def record_answer(self, ask_id: int, answer: str, at: datetime) -> None:
        """Keep the author's answer (a category code or none)."""
        ...

    async def answer_counts(self) -> dict[str, int]:
        """How questions were answered."""
        ...


class KeywordRepository(Protocol):
    """Keyword changes made by admins."""

    async def record(self, category: str, word: str, weight: float | None, by_user_id: int, at: datetime) -> None:
        """Append a change (weight None removes the word)."""
        ...

    async def changes(self) -> list[tuple[str, str, float | None]]:
        """Every change, oldest first."""
        ...


class DutyRepository(Protocol):
    """The roster and the duty rota."""

    async def person_by_key(self, community_id: int, person_key: str) -> RosterPerson | None:
        """A roster person by their key (phone, else name)."""
        ...

    async def people(self, community_id: int) -> list[RosterPerson]:
        """Everyone on the roster."""
        ...

    async def person_by_code(self, code: str) -> RosterPerson | None:
        """The roster person an unused invite code belongs to."""
        ...

    async def save_person(self, person: RosterPerson) -> tuple[RosterPerson, bool]:
        """Insert or update a roster person; returns it and whether anything changed."""
        ...

    async def add_shift(self, shift: Shift) -> bool:
        """Add a shift; False when it is already in the rota."""
        ...

    async def shifts_between(self, start: datetime, end: datetime, roster_id: int | None = None) -> list[Shift]:
        """Shifts that overlap [start, end)."""
        ...

    async def shifts_to_announce(self, until: datetime, now: datetime, limit: int = 200) -> list[Shift]:
        """Shifts starting by ``until`` whose person has not been reminded."""
        ...

    async def mark_shift_reminded(self, shift_id: int, at: datetime) -> None:
        """Record that the shift's person was reminded."""
        ...

    async def staff_without_private_chat(self) -> list[Member]:
        """Staff the bot cannot message privately yet."""
        ...

    async def holders(self, role: Role, building_id: int | None, grid_id: int | None) -> list[Member]:
        """Members holding ``role`` for a building: scoped to it, to its grid, or to the community."""
        ...

    async def staff(self) -> list[Member]:
        """Every member holding a role besides resident, with their roles."""
        ...

    async def grid_id(self, community_id: int, name: str) -> int | None:
        """The id of a grid by name."""
        ...

    async def grid_name(self, grid_id: int) -> str | None:
        """The name of a grid."""
        ...

    async def create_grid(self, community_id: int, name: str) -> int:
        """The id of the grid of that name, created when new."""
        ...


class WallRepository(Protocol):
    """Say-it wall, echo board, return visits and reports (issue 6); see storage/wall_repository.py."""

    async def open_cases(self, community_id: int, building_ids: list[int] | None) -> list[Case]:
        """Active cases of some buildings (the whole community when None)."""
        ...

    async def resolved_since(self, community_id: int, building_ids: list[int] | None, since: datetime) -> list[Case]:
        """Cases resolved since ``since``, latest first."""
        ...

    async def supporter_counts(self, case_ids: list[int]) -> dict[int, int]:
        """+1 counts by case id."""
        ...

    async def cases_created_between(self, community_id: int, start: datetime, end: datetime) -> list[Case]:
        """Cases opened in [start, end)."""
        ...

    async def cases_for_period(self, community_id: int, start: datetime, end: datetime) -> list[Case]:
        """Cases that matter to a report of [start, end)."""
        ...

    async def events_of(self, case_ids: list[int]) -> dict[int, list[CaseEvent]]:
        """The histories of some cases."""
        ...

    async def grid_names(self, community_id: int) -> dict[int, tuple[str, str | None]]:
        """Building id → (building name, grid name)."""
        ...

    async def slot(self, key: str) -> Any:
        """The slot state of a digest or report (a WallSlot), or None."""
        ...

    async def save_slot(self, slot: Any) -> None:
        """Insert or update a slot state."""
        ...

    async def followup(self, case_id: int) -> Any:
        """A case's follow-up state (a CaseFollowup)."""
        ...

    async def save_followup(self, followup: Any) -> None:
        """Insert or update a case's follow-up state."""
        ...

    async def unrated_resolved(self, resolved_before: datetime, limit: int = 200) -> list[Case]:
        """Resolved, unrated cases not yet reminded to rate."""
        ...

    async def due_for_visit(self, start: datetime, end: datetime, limit: int = 500) -> list[Case]:
        """Cases resolved in [start, end) not yet visited."""
        ...

    async def named_reporters(self, user_ids: list[int]) -> set[int]:
        """Those of ``user_ids`` who chose to be named on the wall."""
        ...

    async def set_named(self, user_id: int, named: bool, at: datetime) -> None:
        """Record whether a resident wants to be named on the wall."""
        ...


class PersonalDataRepository(Protocol):
    """One person's personal data across the tables, for ``residents-bot forget``."""

    async def names_of(self, user_id: int) -> list[str]:
        """The names the person is known by, longest first."""
        ...

    async def case_texts(self, user_id: int) -> list[tuple[int, str]]:
        """(case id, text) of the cases the person reported."""
        ...

    async def forget(
        self, user_id: int, placeholder: str, masked_texts: dict[int, str], names: list[str], mask: Callable[[str], str]
    ) -> Any:
        """Erase the person's names, phones, handles and raw messages; returns counts per kind."""
        ...


class UnitOfWork(Protocol):
    """One transaction over all repositories; nothing is visible to others until ``commit``."""

    communities: CommunityRepository
    buildings: BuildingRepository
    chats: ChatRepository
    members: MemberRepository
    cases: CaseRepository
    outbox: OutboxRepository
    inbox: InboxRepository
    dialogues: DialogueRepository
    asks: AskRepository
    keywords: KeywordRepository
    heartbeats: HeartbeatRepository
    duty: DutyRepository
    personal: PersonalDataRepository
    # issue 6 (wall, echo board, return visits, reports):
    wall: WallRepository
    # issue 7 (activities, broadcasts, points):
    broadcasts: BroadcastRepository
    activities: ActivityRepository
    points: PointsRepository
    # issue 10 (private reports, attachments, relays):
    reports: ReportRepository

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None:
        """Make the work durable (and wake the outbox sender if messages were queued)."""
        ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work for each use case."""

    def __call__(self) -> UnitOfWork:
        """A new, unstarted unit of work."""
        ...


class DeliveryError(Exception):
    """Telegram refused or could not take a message."""


class RetryLater(DeliveryError):
    """Flood control (429): try again after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class ChatGone(DeliveryError):
    """The bot was removed from the chat or the user blocked it (403)."""


class ChatMoved(DeliveryError):
    """The group became a supergroup with a new id (400 with migrate_to_chat_id)."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class Rejected(DeliveryError):
    """Telegram refused this message for good (400): retrying will not help."""


class Unreachable(DeliveryError):
    """Network failure or server error before Telegram took the message: safe to retry."""


class Uncertain(DeliveryError):
    """The request timed out after it was sent: Telegram may or may not have delivered it."""


class TokenRefused(Exception):
    """The Bot API refused the bot token (401)."""


class Messenger(Protocol):
    """Sends and edits messages through a chat framework; raises DeliveryError subclasses."""

    async def send(self, message: OutgoingMessage) -> int:
        """Send a message; returns Telegram's message id."""
        ...

    async def edit(self, message: OutgoingMessage, message_id: int) -> None:
        """Edit the text (a caption when ``media_kind`` is set) and buttons of an earlier message."""
        ...

    async def download(self, file_id: str) -> bytes:
        """The bytes of a file a user sent (for an imported roster or rota)."""
        ...


FILE_PREFIX = "file:"
"""``OutgoingMessage.media`` starting with this names a local file to upload instead of a Telegram file id."""


RawUpdate = dict[str, Any]
