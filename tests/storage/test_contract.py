"""Storage contract: the same behaviour on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.model import Case, ChatKind, OutboxKind, OutgoingMessage, RoleGrant
from bot.core.roles import Role, ScopeKind
from bot.core.states import CaseStatus
from storage.db import create_engine, current_revision, session_factory, upgrade
from storage.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def backends() -> list[pytest.param]:
    params = [pytest.param("sqlite", id="sqlite")]
    reason = "TEST_DATABASE_URL is not set (PostgreSQL contract tests run in CI when the server answers)"
    params.append(
        pytest.param("postgres", id="postgres", marks=pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason=reason))
    )
    return params


@pytest.fixture(params=backends())
async def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A migrated, empty database of each backend (PostgreSQL gets its own schema per test)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
        await upgrade(engine)
        yield SqlUnitOfWorkFactory(session_factory(engine))
        await engine.dispose()
        return
    url = os.environ["TEST_DATABASE_URL"]
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url)
    engine = engine.execution_options(schema_translate_map=None)
    from sqlalchemy import event

    @event.listens_for(engine.sync_engine, "connect")
    def _search_path(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()

    await upgrade(engine)
    yield SqlUnitOfWorkFactory(session_factory(engine))
    await engine.dispose()
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


def new_case(number: int, building_id: int | None, reporter: int = 1) -> Case:
    return Case(
        None, 1, number, "repair", False, "电梯坏了", reporter, "张三", -100, 10, building_id,
        CaseStatus.OPEN, NOW, NOW, due_at=NOW + timedelta(hours=24),
    )


async def test_case_numbers_are_sequential_and_unique(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        community = await uow.communities.default()
        numbers = [await uow.communities.next_case_number(community.id) for _ in range(3)]
        await uow.commit()
    assert numbers == [1, 2, 3]


async def test_concurrent_number_reservations_never_collide(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        community = await uow.communities.default()
        await uow.commit()

    async def reserve() -> int:
        async with uow_factory() as uow:
            number = await uow.communities.next_case_number(community.id)
            await uow.commit()
            return number

    numbers = await asyncio.gather(*(reserve() for _ in range(20)))
    assert sorted(numbers) == list(range(1, 21))


async def test_case_round_trip_with_events_and_telegram_64bit_ids(uow_factory: SqlUnitOfWorkFactory) -> None:
    big = -1001234567890123
    async with uow_factory() as uow:
        community = await uow.communities.default()
        building = await uow.buildings.get_or_create(community.id, "3栋")
        case = new_case(1, building.id, reporter=7_000_000_000)
        case.chat_id = big
        case = await uow.cases.add(case)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.cases.by_number(community.id, 1)
        assert loaded is not None
        assert loaded.chat_id == big and loaded.reporter_id == 7_000_000_000
        assert loaded.due_at == NOW + timedelta(hours=24) and loaded.due_at.tzinfo is not None
        assert [c.number for c in await uow.cases.active_for_reporter(7_000_000_000)] == [1]


async def test_inbox_stores_once_and_claims_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.inbox.store([(5, "{}"), (6, "{}")], NOW) == 2
        assert await uow.inbox.store([(6, "{}"), (7, "{}")], NOW) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert [u for u, _, _ in await uow.inbox.unhandled(10)] == [5, 6, 7]
        assert await uow.inbox.claim(6, NOW) is True
        assert await uow.inbox.claim(6, NOW) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert [u for u, _, _ in await uow.inbox.unhandled(10)] == [5, 7]
        assert await uow.inbox.last_update_id() == 7
        await uow.inbox.record_failure(5, "boom", dead=True, at=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.counts() == {"backlog": 1, "dead": 1}


async def test_outbox_due_order_edit_targets_and_delivery(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        first = await uow.outbox.add(OutgoingMessage(-1, "a", ref="case:1:card", created_at=NOW))
        later = await uow.outbox.add(OutgoingMessage(-1, "b", created_at=NOW, not_before=NOW + timedelta(minutes=1)))
        edit = await uow.outbox.add(OutgoingMessage(-1, "a2", kind=OutboxKind.EDIT, edit_of=first, created_at=NOW))
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.id for m in await uow.outbox.due(NOW, 10)] == [first, edit]
        assert [m.id for m in await uow.outbox.due(NOW + timedelta(minutes=2), 10)] == [first, later, edit]
        assert await uow.outbox.message_id_of(first) is None
        await uow.outbox.mark_sent(first, 77, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.message_id_of(first) == (-1, 77)
        assert [m.id for m in await uow.outbox.by_ref("case:1:card")] == [first]
        count, oldest = await uow.outbox.backlog()
        assert count == 2 and oldest == NOW


async def test_a_reply_finds_the_case_by_its_report_or_its_card(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        community = await uow.communities.default()
        building = await uow.buildings.get_or_create(community.id, "3栋")
        case = await uow.cases.add(new_case(1, building.id))  # reported as message 10 in chat -100
        card = await uow.outbox.add(OutgoingMessage(-100, "已登记 #1", ref=f"case:{case.id}:card", created_at=NOW))
        await uow.outbox.mark_sent(card, 11, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.cases.by_message(-100, 10)
        assert found is not None and found.number == 1
        assert await uow.cases.by_message(-100, 11) is None
        assert await uow.cases.by_message(-200, 10) is None
        assert await uow.outbox.ref_at(-100, 11) == f"case:{case.id}:card"
        assert await uow.outbox.ref_at(-100, 10) is None
        assert await uow.outbox.ref_at(-200, 11) is None


async def test_chat_migration_moves_binding_cases_and_queue(uow_factory: SqlUnitOfWorkFactory) -> None:
    from bot.core.model import Chat

    async with uow_factory() as uow:
        community = await uow.communities.default()
        building = await uow.buildings.get_or_create(community.id, "1栋")
        await uow.chats.save(Chat(-5, community.id, ChatKind.BUILDING, "1栋群", building.id))
        await uow.cases.add(new_case(1, building.id))
        case = await uow.cases.by_number(community.id, 1)
        assert case is not None
        case.chat_id = -5
        await uow.cases.update(case)
        await uow.outbox.add(OutgoingMessage(-5, "queued", created_at=NOW))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.chats.migrate(-5, -1005)
        await uow.commit()
    async with uow_factory() as uow:
        moved = await uow.chats.get(-1005)
        assert moved is not None and moved.kind == ChatKind.BUILDING and moved.building_id == building.id
        assert (await uow.cases.by_number(community.id, 1)).chat_id == -1005  # type: ignore[union-attr]
        assert [m.chat_id for m in await uow.outbox.due(NOW, 10)] == [-1005]


async def test_roles_scoped_to_building(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        community = await uow.communities.default()
        b3 = await uow.buildings.get_or_create(community.id, "3栋")
        await uow.members.seen(1, "王芳", None)
        assert await uow.members.grant(1, RoleGrant(Role.BUILDING_HEAD, ScopeKind.BUILDING, b3.id))
        assert not await uow.members.grant(1, RoleGrant(Role.BUILDING_HEAD, ScopeKind.BUILDING, b3.id))
        await uow.commit()
    async with uow_factory() as uow:
        heads = await uow.members.with_role(Role.BUILDING_HEAD, b3.id)
        assert [m.name for m in heads] == ["王芳"]
        assert heads[0].can_work_on(b3.id) and not heads[0].can_work_on(b3.id + 1)
        assert await uow.members.with_role(Role.BUILDING_HEAD, b3.id + 1) == []


async def test_migrations_reach_head(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert uow.session is not None
        engine = uow.session.bind
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert await current_revision(engine) == head  # type: ignore[arg-type]
