"""Build aiogram's Bot and Dispatcher, and feed stored updates through them."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import BotCommand, Update

from bot.core.ports import TokenRefused
from bot.services import BotServices
from bot.services.base import BotProfile
from handlers.aiogram_app.messenger import SEND_TIMEOUT, AiogramMessenger
from handlers.aiogram_app.routers import build_router

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


class AiogramAdapter:
    """Everything framework-specific for one bot: client, dispatcher, update source, messenger."""

    def __init__(
        self, token: str, api_url: str | None, services: BotServices, send_timeout: float = SEND_TIMEOUT
    ) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
        self.bot = Bot(token, session=session, default=DefaultBotProperties(link_preview_is_disabled=True))
        self.services = services
        self.dispatcher: Dispatcher | None = None
        self.messenger = AiogramMessenger(self.bot, send_timeout)

    async def start(self, command_descriptions: dict[str, str]) -> BotProfile:
        """getMe (essential), then deleteWebhook and setMyCommands (logged if they fail)."""
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError as err:
            raise TokenRefused(err.message) from err
        profile = BotProfile(me.username or "", bool(me.can_read_all_group_messages))
        self.dispatcher = Dispatcher(services=self.services)
        self.dispatcher.include_router(build_router(profile.username))
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramAPIError as err:
            log.warning("deleteWebhook failed (%s); continuing", err.message)
        try:
            await self.bot.set_my_commands(
                [BotCommand(command=name, description=text) for name, text in command_descriptions.items()]
            )
        except TelegramAPIError as err:
            log.warning("setMyCommands failed (%s); continuing without the command menu", err.message)
        return profile

    async def set_webhook(self, url: str, secret: str) -> None:
        """Ask Telegram to deliver updates to ``url`` with the secret header."""
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)

    async def delete_webhook(self) -> None:
        """Stop webhook delivery (pending updates stay with Telegram)."""
        await self.bot.delete_webhook(drop_pending_updates=False)

    async def fetch(self, offset: int | None, poll_seconds: int) -> Sequence[tuple[int, str]]:
        """getUpdates; updates below ``offset`` are confirmed, those returned are not yet."""
        updates = await self.bot(
            GetUpdates(offset=offset, timeout=poll_seconds, allowed_updates=ALLOWED_UPDATES),
            request_timeout=poll_seconds + 15,
        )
        return [(u.update_id, u.model_dump_json(exclude_unset=True, by_alias=True)) for u in updates]

    async def handle(self, update_id: int, raw: str) -> None:
        """Feed one stored update through the dispatcher (the services record it as handled)."""
        if self.dispatcher is None:
            raise RuntimeError("adapter not started")
        update = Update.model_validate_json(raw, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.bot.session.close()
