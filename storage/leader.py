"""Leadership between bot instances sharing one database: a PostgreSQL advisory lock held on a
dedicated connection. The outbox sender and the scheduled sweeps run only on the leader, so limits
are kept globally and nothing is sent or swept twice; when the leader dies its connection closes,
the lock is released, and another instance takes over within seconds. SQLite runs one instance,
which is always the leader."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

SENDER_LOCK = 74_201_001


class LeaderLock:
    """Try-and-keep an advisory lock; ``ensure()`` says whether this instance leads right now."""

    def __init__(self, engine: AsyncEngine, key: int = SENDER_LOCK) -> None:
        self.engine = engine
        self.key = key
        self._conn: AsyncConnection | None = None
        self.held = engine.dialect.name != "postgresql"

    async def ensure(self) -> bool:
        """True when this instance holds the lock (taking it if free); checks the connection is alive."""
        if self.engine.dialect.name != "postgresql":
            return True
        try:
            if self._conn is None:
                self._conn = await self.engine.connect()
                await self._conn.execution_options(isolation_level="AUTOCOMMIT")
            if self.held:
                await self._conn.execute(text("SELECT 1"))
                return True
            self.held = bool((await self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar())
            if self.held:
                log.info("this instance now leads (sends the outbox and runs the sweeps)")
            return self.held
        except Exception as err:
            log.warning("leader lock connection failed (%s); retrying", type(err).__name__)
            await self.release()
            return False

    async def release(self) -> None:
        """Give the lock up (closing its connection releases it)."""
        self.held = self.engine.dialect.name != "postgresql"
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.close()
            except Exception:
                log.debug("leader connection was already closed")
