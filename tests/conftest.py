"""Shared fixtures: a real SQLite database per test, a core wired by bootstrap, event builders."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import Core, build_core
from bot.config import Settings
from bot.core.clock import ManualClock
from bot.core.events import Actor, ButtonPress, ChatRef, Command, IncomingMessage
from tests.fakes import TableClassifier

ADMIN = Actor(9001, "社区书记 周红")
RESIDENT = Actor(1001, "张大爷")
NEIGHBOUR = Actor(1002, "李阿姨")
VOLUNTEER = Actor(2001, "李明")
VOLUNTEER2 = Actor(2002, "王强")
BUILDING_CHAT = ChatRef(-1003, "supergroup", "3栋业主群")
STAFF_CHAT = ChatRef(-2001, "supergroup", "值班群")


def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file in the test's temporary folder."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def core(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Core]:
    """Services over a migrated SQLite database, with the table classifier."""
    settings = Settings(_env_file=None, database_url=sqlite_url(tmp_path), admin_ids=[ADMIN.user_id])
    built = await build_core(settings, clock=clock, classifier=TableClassifier())
    yield built
    await built.engine.dispose()


class Events:
    """Builds events with fresh update and message ids, like Telegram would."""

    def __init__(self) -> None:
        self._updates = itertools.count(1)
        self._messages = itertools.count(100)

    def message(self, chat: ChatRef, actor: Actor, text: str, **kw: object) -> IncomingMessage:
        """A text message."""
        return IncomingMessage(next(self._updates), chat, actor, next(self._messages), text, **kw)  # type: ignore[arg-type]

    def command(self, chat: ChatRef, actor: Actor, name: str, args: str = "", reply_to: Actor | None = None) -> Command:
        """A /command, optionally replying to someone's message."""
        return Command(
            next(self._updates), chat, actor, next(self._messages), name, args,
            reply_to_message_id=5 if reply_to else None, reply_to_author=reply_to,
        )

    def press(self, chat: ChatRef, actor: Actor, data: str, message_id: int = 1) -> ButtonPress:
        """A button press."""
        return ButtonPress(next(self._updates), chat, actor, message_id, data)


@pytest.fixture
def ev() -> Events:
    """Event builder."""
    return Events()
