"""`residents-bot forget USER_ID`: nothing of the person is left in any table; their case stays, anonymised."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import String, Text, select

from bot.bootstrap import Core
from bot.cli import main
from storage.models import Base, CaseRow
from tests.conftest import BUILDING_CHAT, NEIGHBOUR, RESIDENT, STAFF_CHAT, VOLUNTEER, Events
from tests.services.test_case_flow import setup_community

PHONE = "13912345678"


async def texts_mentioning(core: Core, *needles: str) -> list[str]:
    """Every table.column whose text holds one of the needles, across the whole database."""
    found = []
    async with core.uow() as uow:
        assert uow.session is not None
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text):
                    continue
                for needle in needles:
                    hit = await uow.session.scalar(select(column).where(column.contains(needle)).limit(1))
                    if hit is not None:
                        found.append(f"{table.name}.{column.name}: {hit[:60]}")
    return found


async def test_forget_erases_the_person_everywhere_and_keeps_the_case_anonymised(
    core: Core, ev: Events, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s = core.services
    await setup_community(core, ev)
    await s.handle_message(ev.message(BUILDING_CHAT, RESIDENT, f"电梯坏了，我电话{PHONE}，住2单元301"))
    await s.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "电梯坏了，上不去"))
    await s.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:claim:1"))
    assert await texts_mentioning(core, RESIDENT.name, PHONE)  # the person is stored before

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    monkeypatch.chdir(tmp_path)
    assert await asyncio.to_thread(main, ["forget", str(RESIDENT.user_id)]) == 0
    assert f"forgot user {RESIDENT.user_id}" in capsys.readouterr().out

    assert await texts_mentioning(core, RESIDENT.name, PHONE) == []
    async with core.uow() as uow:
        assert uow.session is not None
        case = (await uow.session.execute(select(CaseRow.__table__))).one()
    assert case.reporter_name == "已注销用户" and case.reporter_id == -1
    assert "139****5678" in case.text and "2单元***" in case.text and case.status == "assigned"
    # Other people are untouched: the neighbour who joined the case and the volunteer who took it.
    assert await texts_mentioning(core, NEIGHBOUR.name) and case.assignee_name == VOLUNTEER.name
