"""End-to-end fixtures: the simulator over HTTP, the real aiogram client, the whole bot on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import BotRunner, build_core
from bot.config import QuietHours, Settings
from simulator.client import SimulatorClient
from simulator.testing import TEST_TOKEN, running_simulator

ADMIN_ID = 9001
RESIDENT_ID = 1001
NEIGHBOUR_ID = 1002
VOLUNTEER_ID = 2001
VOLUNTEER2_ID = 2002


@dataclass
class World:
    """A running simulator and bot, with a bound building group and staff group."""

    sim: Any
    client: SimulatorClient
    runner: BotRunner
    building: int
    staff: int

    async def say(self, chat_id: int, user_id: int, text: str, **kw: Any) -> dict[str, Any]:
        """A user writes in a chat."""
        return await self.client.send_message(chat_id, user_id, text, **kw)

    async def reply_of(self, chat_id: int, message: dict[str, Any], within: float = 5.0) -> dict[str, Any]:
        """The bot's reply to ``message``."""
        return await self.client.wait_for_bot_message(
            chat_id,
            lambda m: (m.get("reply_to_message") or {}).get("message_id") == message["message_id"],
            timeout=within,
            after_message_id=message["message_id"],
        )

    async def press(self, chat_id: int, message: dict[str, Any], user_id: int, text: str) -> dict[str, Any]:
        """A user presses the button labelled ``text`` on a bot message; returns the callback answer."""
        data = button_data(message, text)
        query = await self.client.press_button(chat_id, message["message_id"], user_id, data)
        return await self.client.wait_callback_answer(query, timeout=5.0)


def button_data(message: dict[str, Any], text: str) -> str:
    """The callback data of the button labelled ``text``."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"] == text:
                return str(button["callback_data"])
    raise AssertionError(f"no button {text!r} on message: {message.get('text')!r}")


def bot_settings(url: str, db: Path, **overrides: Any) -> Settings:
    """Settings pointing the bot at the simulator."""
    values: dict[str, Any] = {
        "bot_token": TEST_TOKEN,
        "telegram_api_url": url,
        "database_url": f"sqlite+aiosqlite:///{db}",
        "admin_ids": [ADMIN_ID],
        "poll_timeout": 2,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(params=["aiogram", "ptb"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    """Simulator + bot (each framework); 3栋 and staff group bound by the admin; two volunteers granted."""
    async with running_simulator() as (sim, client):
        for uid, name in (
            (ADMIN_ID, "周红"), (RESIDENT_ID, "张大爷"), (NEIGHBOUR_ID, "李阿姨"),
            (VOLUNTEER_ID, "李明"), (VOLUNTEER2_ID, "王强"),
        ):
            await client.add_user(uid, name)
        building = (await client.create_chat("3栋业主群", type="supergroup"))["id"]
        staff = (await client.create_chat("幸福里值班群", type="supergroup"))["id"]
        core = await build_core(bot_settings(sim.url, tmp_path / "bot.db", bot_framework=request.param))
        # This world runs on the wall clock: without this, a run between 22:00 and 07:00 community time
        # would hold every non-urgent reminder until morning (quiet hours have their own tests with a
        # manual clock in tests/services/test_duty_and_reminders.py).
        core.deps.rules.quiet_hours = QuietHours(start="00:00", end="00:00")
        runner = BotRunner(core)
        await runner.start()
        w = World(sim, client, runner, building, staff)
        try:
            await w.reply_of(building, await w.say(building, ADMIN_ID, "/bind 3栋"))
            await w.reply_of(staff, await w.say(staff, ADMIN_ID, "/bind staff"))
            for uid in (VOLUNTEER_ID, VOLUNTEER2_ID):
                said = await w.say(staff, uid, "我来值班")
                grant = await w.say(staff, ADMIN_ID, "/grant volunteer", reply_to_message_id=said["message_id"])
                await w.reply_of(staff, grant)
            yield w
        finally:
            await runner.stop()
