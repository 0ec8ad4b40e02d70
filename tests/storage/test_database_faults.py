"""Database faults: SQLite busy under concurrent writers, SQLite disk full, PostgreSQL connections dropped."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import Core, build_core
from bot.config import Settings
from bot.core.clock import ManualClock
from bot.core.events import Actor
from storage.db import create_engine
from storage.models import CaseRow
from tests.conftest import ADMIN, BUILDING_CHAT, Events
from tests.fakes import TableClassifier


async def bound_core(url: str, clock: ManualClock, ev: Events, *, bind: bool = True) -> Core:
    """A core on ``url`` with 3栋's group bound (the first time)."""
    settings = Settings(_env_file=None, database_url=url, admin_ids=[ADMIN.user_id])
    core = await build_core(settings, clock=clock, classifier=TableClassifier())
    if bind:
        await core.services.handle_command(ev.command(BUILDING_CHAT, ADMIN, "bind", "3栋"))
    return core


async def case_numbers(core: Core) -> list[int]:
    """The numbers of all cases, in order."""
    async with core.uow() as uow:
        assert uow.session is not None
        return list(await uow.session.scalars(select(CaseRow.number).order_by(CaseRow.number)))


def residents(n: int, start: int = 5000) -> list[Actor]:
    """``n`` different residents (so the flood guard does not apply)."""
    return [Actor(start + i, f"居民{i}") for i in range(n)]


async def test_two_instances_and_a_foreign_writer_on_one_sqlite_file_lose_nothing(
    tmp_path: Path, clock: ManualClock
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    ev = Events()
    first = await bound_core(url, clock, ev)
    second = await bound_core(url, clock, ev, bind=False)

    def hold_write_lock() -> None:  # another process (a backup, an admin's sqlite3 shell) writing for 1 s
        con = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        time.sleep(1.0)
        con.execute("COMMIT")
        con.close()

    blocker = threading.Thread(target=hold_write_lock)
    blocker.start()
    try:
        messages = [
            (first if i % 2 else second).services.handle_message(ev.message(BUILDING_CHAT, actor, f"{i}号电梯坏了"))
            for i, actor in enumerate(residents(40))
        ]
        await asyncio.gather(*messages)
    finally:
        blocker.join()
    # Every request became a case (the repeats merged into the first: same building, same thing).
    async with first.uow() as uow:
        assert uow.session is not None
        handled = await uow.session.scalar(text("SELECT count(*) FROM inbox WHERE handled_at IS NOT NULL"))
    assert handled == 41 and await case_numbers(first) == [1]
    for core in (first, second):
        await core.engine.dispose()


async def test_sqlite_disk_full_is_a_clear_error_and_nothing_is_corrupted(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'full.db'}"
    ev = Events()
    core = await bound_core(url, clock, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, residents(1)[0], "电梯坏了"))
    async with core.engine.connect() as conn:  # the pool's only connection: cap the file where it is now
        pages = (await conn.exec_driver_sql("PRAGMA page_count")).scalar_one()
        await conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")

    big = ev.message(BUILDING_CHAT, residents(1, 6000)[0], "路灯坏了" + "，很暗" * 3000)
    with pytest.raises(OperationalError, match="full"):
        await core.services.handle_message(big)
    assert await case_numbers(core) == [1]  # the failed transaction left nothing half-written

    async with core.engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA integrity_check")).scalar_one() == "ok"
        await conn.exec_driver_sql("PRAGMA max_page_count = 1073741823")
    await core.services.handle_message(big)  # space again: the same update goes through, once
    await core.services.handle_message(big)
    assert await case_numbers(core) == [1, 2]
    await core.engine.dispose()


PG_URL = os.environ.get("TEST_DATABASE_URL")


@dataclass(frozen=True)
class ScratchDatabase:
    """A PostgreSQL database made for one test: its name, its URL and an autocommit engine on the server."""

    name: str
    url: str
    admin: AsyncEngine


@pytest.fixture
async def scratch_pg() -> AsyncIterator[ScratchDatabase]:
    """A fresh database on TEST_DATABASE_URL's server, dropped (connections and all) after the test."""
    assert PG_URL is not None
    name = f"faults_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield ScratchDatabase(name, make_url(PG_URL).set(database=name).render_as_string(hide_password=False), admin)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set (PostgreSQL fault tests run in CI)")
async def test_postgresql_dropping_every_connection_mid_work_loses_nothing(
    clock: ManualClock, scratch_pg: ScratchDatabase
) -> None:
    ev = Events()
    core = await bound_core(scratch_pg.url, clock, ev)

    async def drop_connections() -> int:
        """What a server restart looks like to the bot: every connection to its database is cut."""
        async with scratch_pg.admin.connect() as conn:
            result = await conn.execute(
                text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :db"),
                {"db": scratch_pg.name},
            )
            return int(result.scalar_one())

    try:
        people = residents(30)
        for i, actor in enumerate(people[:10]):
            await core.services.handle_message(ev.message(BUILDING_CHAT, actor, f"{i}号路灯坏了"))
        messages = [ev.message(BUILDING_CHAT, a, f"{i}号楼道电梯坏了") for i, a in enumerate(people[10:], start=10)]

        async def cut_repeatedly() -> int:
            cuts = 0
            for _ in range(4):
                await asyncio.sleep(0.02)
                cuts += await drop_connections()
            return cuts

        outcomes = await asyncio.gather(*(core.services.handle_message(m) for m in messages), cut_repeatedly(),
                                        return_exceptions=True)
        assert isinstance(outcomes[-1], int) and outcomes[-1] >= 1
        failed = [m for m, outcome in zip(messages, outcomes, strict=False) if isinstance(outcome, Exception)]
        assert all(isinstance(o, DBAPIError | OSError | ConnectionError) for o in outcomes[:-1] if isinstance(o, Exception))
        # Failed transactions were not claimed, so the inbox worker would retry them; so do we.
        for message in failed:
            await core.services.handle_message(message)
        async with core.uow() as uow:
            assert uow.session is not None
            handled = await uow.session.scalar(text("SELECT count(*) FROM inbox WHERE handled_at IS NOT NULL"))
            cases = await uow.session.scalar(select(func.count()).select_from(CaseRow))
        assert handled == 31  # the bind and 30 messages, each exactly once
        assert cases == 2  # 路灯 (ten reports merged) and 电梯 (twenty merged)
    finally:
        await core.engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set (PostgreSQL concurrency tests run in CI)")
async def test_postgresql_two_reports_of_one_problem_at_once_open_one_case(
    clock: ManualClock, scratch_pg: ScratchDatabase
) -> None:
    """Two instances (or workers) registering the same problem at the same moment: the second waits for
    the first's transaction, then sees its case and merges into it instead of opening a second one."""
    ev = Events()
    core = await bound_core(scratch_pg.url, clock, ev)
    try:
        first, second = (ev.message(BUILDING_CHAT, actor, "3单元电梯坏了") for actor in residents(2))
        services = core.services
        async with core.uow() as uow:  # the first report's transaction, held open
            community = await services.community(uow)
            chat = await services.chat_of(uow, first.chat, community)
            member = await services.member_of(uow, first.actor)
            verdict = core.deps.classifier.classify(first.text)
            await services.intake.register(uow, community, chat, member, first.message_id, first.text, verdict)
            racing = asyncio.create_task(services.handle_message(second))
            await asyncio.sleep(0.5)
            assert not racing.done(), "the second report must wait for the building's lock"
            await uow.commit()
        await asyncio.wait_for(racing, 10)
        async with core.uow() as uow:
            assert uow.session is not None
            cases = await uow.session.scalar(select(func.count()).select_from(CaseRow))
            supporters = await uow.cases.supporter_count(1)
        assert cases == 1
        assert supporters == 1  # the second resident is counted on the first case
    finally:
        await core.engine.dispose()
