"""Fixtures for the simulator's own tests: a running simulator, its test-side client, real bots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from simulator import Limits, SimulatorApp, SimulatorClient

TOKEN = "7000000001:TEST-token_for-simulator"
BOT_ID = 7000000001
ALICE = 101
BOB = 102


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorApp]:
    """A simulator on a free port of 127.0.0.1, flood limits off (tests of the limits switch them on)."""
    app = SimulatorApp(limits=Limits(enabled=False))
    await app.start("127.0.0.1", 0)
    yield app
    await app.stop()


@pytest.fixture
async def client(sim: SimulatorApp) -> AsyncIterator[SimulatorClient]:
    """The test-side client of `sim`."""
    async with SimulatorClient(sim.url) as test_side:
        yield test_side


@pytest.fixture
async def group(client: SimulatorClient) -> dict:
    """A group "1号楼" with two residents, Alice (creator) and Bob."""
    await client.add_user(ALICE, "爱丽丝", username="alice")
    await client.add_user(BOB, "鲍勃", last_name="王")
    return await client.create_chat("1号楼", creator_id=ALICE, members=[BOB])


class PlainHttpSession(AiohttpSession):
    """aiogram's AiohttpSession without the 250 ms pause its close() makes for SSL sockets (plain HTTP here)."""

    async def close(self) -> None:
        """Close the aiohttp session at once."""
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest.fixture
async def aiobot(sim: SimulatorApp) -> AsyncIterator[Bot]:
    """A real aiogram Bot (its own request code; only close() is quicker) talking to `sim` over HTTP."""
    bot = Bot(TOKEN, session=PlainHttpSession(api=TelegramAPIServer.from_base(sim.url)))
    yield bot
    await bot.session.close()


@pytest.fixture
async def ptbbot(sim: SimulatorApp) -> AsyncIterator[telegram.Bot]:
    """A real python-telegram-bot Bot talking to `sim` over HTTP."""
    bot = telegram.Bot(TOKEN, base_url=sim.url + "/bot", base_file_url=sim.url + "/file/bot")
    async with bot:
        yield bot
