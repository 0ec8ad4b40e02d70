"""The SQLAlchemy unit of work: one session, one transaction, all repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction, async_sessionmaker

from storage.activity_repository import SqlActivityRepository, SqlBroadcastRepository, SqlPointsRepository
from storage.personal_data import SqlPersonalData
from storage.report_repository import SqlReportRepository  # issue 10
from storage.repositories import (
    SqlAskRepository,
    SqlBuildingRepository,
    SqlCaseRepository,
    SqlChatRepository,
    SqlCommunityRepository,
    SqlDialogueRepository,
    SqlDutyRepository,
    SqlHeartbeatRepository,
    SqlInboxRepository,
    SqlKeywordRepository,
    SqlMemberRepository,
    SqlOutboxRepository,
)
from storage.wall_repository import SqlWallRepository  # issue 6


@dataclass
class _Batch:
    """An outer transaction shared by the units of work started inside ``batch()``."""

    session: AsyncSession
    queued: int = 0


_current_batch: ContextVar[_Batch | None] = ContextVar("residents_bot_batch", default=None)


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
    keywords: SqlKeywordRepository
    heartbeats: SqlHeartbeatRepository
    duty: SqlDutyRepository
    personal: SqlPersonalData
    # issue 6 (wall, echo board, return visits, reports):
    wall: SqlWallRepository
    # issue 7 (activities, broadcasts, points):
    broadcasts: SqlBroadcastRepository
    activities: SqlActivityRepository
    points: SqlPointsRepository
    # issue 10 (private reports, attachments, relays):
    reports: SqlReportRepository

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], on_outbox: Callable[[], None] | None = None
    ) -> None:
        self._sessions = sessions
        self._on_outbox = on_outbox
        self.session: AsyncSession | None = None
        self._batch: _Batch | None = None
        self._savepoint: AsyncSessionTransaction | None = None

    async def __aenter__(self) -> Self:
        """Begin the transaction (a savepoint inside a batch) and bind the repositories to it."""
        self._batch = _current_batch.get()
        if self._batch is not None:
            session = self._batch.session
            self._savepoint = await session.begin_nested()
        else:
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
        self.keywords = SqlKeywordRepository(session)
        self.heartbeats = SqlHeartbeatRepository(session)
        self.duty = SqlDutyRepository(session)
        self.personal = SqlPersonalData(session)
        # issue 6:
        self.wall = SqlWallRepository(session)
        # issue 7:
        self.broadcasts = SqlBroadcastRepository(session)
        self.activities = SqlActivityRepository(session)
        self.points = SqlPointsRepository(session)
        # issue 10:
        self.reports = SqlReportRepository(session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back what was not committed and release the connection."""
        if self._savepoint is not None:
            if self._savepoint.is_active:
                await self._savepoint.rollback()
            self._savepoint = None
            self.session = None
            return
        if self.session is not None:
            await self.session.rollback()
            await self.session.close()
            self.session = None

    async def commit(self) -> None:
        """Make the work durable, then wake the outbox sender if messages were queued.

        Inside a batch this releases the savepoint; the batch's commit makes it durable.
        """
        if self.session is None:
            raise RuntimeError("unit of work used outside its block")
        if self._savepoint is not None and self._batch is not None:
            await self._savepoint.commit()
            self._batch.queued += self.outbox.queued
            self.outbox.queued = 0
            return
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

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Run the units of work started inside as savepoints of one transaction, committed at the end.

        Used by the inbox worker to handle many updates per commit; each update still succeeds or
        fails on its own (its savepoint), and nothing is visible or sent before the batch commits.
        """
        if _current_batch.get() is not None:
            yield
            return
        session = self.sessions()
        batch = _Batch(session)
        token = _current_batch.set(batch)
        try:
            yield
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        finally:
            _current_batch.reset(token)
            await session.close()
        if batch.queued and self.on_outbox is not None:
            self.on_outbox()
