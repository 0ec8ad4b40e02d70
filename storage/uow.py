"""The SQLAlchemy unit of work: one session, one transaction, all repositories."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import (
    SqlAskRepository,
    SqlBuildingRepository,
    SqlCaseRepository,
    SqlChatRepository,
    SqlCommunityRepository,
    SqlDialogueRepository,
    SqlInboxRepository,
    SqlMemberRepository,
    SqlOutboxRepository,
)


class SqlUnitOfWork:
    """One transaction over every repository. Leaving the block without ``commit`` rolls back."""

    communities: SqlCommunityRepository
    buildings: SqlBuildingRepository
    chats: SqlChatRepository
    members: SqlMemberRepository
    cases: SqlCaseRepository
    outbox: SqlOutboxRepository
    inbox: SqlInboxRepository
    dialogues: SqlDialogueRepository
    asks: SqlAskRepository

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], on_outbox: Callable[[], None] | None = None
    ) -> None:
        self._sessions = sessions
        self._on_outbox = on_outbox
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        """Begin the transaction and bind the repositories to it."""
        session = self._sessions()
        self.session = session
        self.communities = SqlCommunityRepository(session)
        self.buildings = SqlBuildingRepository(session)
        self.chats = SqlChatRepository(session)
        self.members = SqlMemberRepository(session)
        self.cases = SqlCaseRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.inbox = SqlInboxRepository(session)
        self.dialogues = SqlDialogueRepository(session)
        self.asks = SqlAskRepository(session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back what was not committed and release the connection."""
        if self.session is not None:
            await self.session.rollback()
            await self.session.close()
            self.session = None

    async def commit(self) -> None:
        """Make the work durable, then wake the outbox sender if messages were queued."""
        if self.session is None:
            raise RuntimeError("unit of work used outside its block")
        await self.session.commit()
        if self.outbox.queued and self._on_outbox is not None:
            self.outbox.queued = 0
            self._on_outbox()


class SqlUnitOfWorkFactory:
    """Makes units of work on one engine; ``on_outbox`` is called after commits that queued messages."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], on_outbox: Callable[[], None] | None = None
    ) -> None:
        self.sessions = sessions
        self.on_outbox = on_outbox

    def __call__(self) -> SqlUnitOfWork:
        """A new, unstarted unit of work."""
        return SqlUnitOfWork(self.sessions, self.on_outbox)


