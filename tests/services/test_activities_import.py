"""`residents-bot import-activities`: YAML or CSV, every row checked first, all or nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.model import Chat, ChatKind
from storage.db import create_engine, session_factory, upgrade
from storage.uow import SqlUnitOfWorkFactory


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file with 3栋's group bound, found by the CLI through DATABASE_URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
            community = await uow.communities.default()
            building = await uow.buildings.get_or_create(community.id, "3栋")
            await uow.chats.save(Chat(-1003, community.id, ChatKind.BUILDING, "3栋业主群", building.id))
            await uow.commit()
        await engine.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ADMIN_IDS", "9001")
    monkeypatch.chdir(tmp_path)
    return url


def test_bad_rows_import_nothing_and_good_files_publish(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "标题,时间,地点,对象,人数\n义诊,2099-11-28 15:00,广场,3栋,30\n读书会,2月31日 10点,图书室,3栋,10\n"
        "宣讲,cron: 0 9 31 2 *,活动室,3栋,20\n排舞,2099-12-01 19:00,广场,3栋,0\n",
        encoding="gbk",
    )
    assert main(["import-activities", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "第 3 行：日期“2月31日”不存在" in out
    assert "第 4 行：重复规则“0 9 31 2 *”永远不会触发" in out
    assert "第 5 行：人数要是大于 0 的整数（收到：0）" in out
    assert "什么都没有导入" in out

    good = tmp_path / "activities.yaml"
    good.write_text(
        "- {title: 义诊, time: '2099-11-28 15:00', place: 中心广场, audience: 3栋, capacity: 30}\n"
        "- {title: 周五排舞, time: 每周五 19:30, place: 中心广场, audience: 全体, capacity: 40}\n",
        encoding="utf-8",
    )
    assert main(["import-activities", str(good)]) == 0
    out = capsys.readouterr().out
    assert "#1 义诊 · 2099年" not in out and "#1 义诊 · 11月28日（周六）15:00 · 3栋" in out
    assert "#2 周五排舞" in out
