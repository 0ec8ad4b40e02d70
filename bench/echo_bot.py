"""A bare aiogram echo bot with aiogram's own polling: the baseline for bench/ingest.py."""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def main() -> None:
    """Echo every message as a reply, as fast as aiogram allows."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        """Reply with the same text."""
        await message.reply(message.text or "ok")

    await dp.start_polling(bot, polling_timeout=2, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
