"""`residents-bot import-roster` and `import-rota` on a real database: all or nothing, then idempotent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import create_engine, upgrade

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file that the CLI finds through DATABASE_URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    return url


def test_cli_imports_roster_and_rota_and_refuses_bad_files(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-roster", str(DATA / "roster_good.csv")]) == 0
    assert "新增 5" in capsys.readouterr().out
    assert main(["import-roster", str(DATA / "roster_good.csv")]) == 0
    assert "新增 0，更新 0，未变 5" in capsys.readouterr().out
    assert main(["import-rota", str(DATA / "rota_bad.csv")]) == 1
    refused = capsys.readouterr().out
    assert "第 3 行：时间不存在：25:00" in refused and "什么都没有导入" in refused
    assert main(["import-rota", str(DATA / "rota_bad.csv"), "--skip-errors"]) == 1
    assert "新增 2" in capsys.readouterr().out
    assert main(["import-rota", str(DATA / "rota_empty.csv")]) == 1
    assert "文件是空的" in capsys.readouterr().err
