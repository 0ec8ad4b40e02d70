"""The Messenger port over aiogram's Bot, with Telegram's errors mapped to the core's delivery errors."""

from __future__ import annotations

from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)

from bot.core.model import MediaKind, OutgoingMessage
from bot.core.ports import FILE_PREFIX, ChatGone, ChatMoved, Rejected, RetryLater, Uncertain, Unreachable

SEND_TIMEOUT = 15.0
# Connection failures happen before Telegram sees the request: those are safe to retry.
_CERTAIN_FAILURES = ("ClientConnectorError", "ClientConnectionError", "ClientProxyConnectionError")


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | ForceReply | None:
    """The reply markup of an outgoing message."""
    if message.buttons:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=b.text, callback_data=b.data, url=b.url) for b in row]
                for row in message.buttons
            ]
        )
    if message.force_reply:
        return ForceReply(force_reply=True, selective=True)
    return None


class AiogramMessenger:
    """Sends and edits messages with aiogram."""

    def __init__(self, bot: Bot, timeout: float = SEND_TIMEOUT) -> None:
        self.bot = bot
        self.timeout = timeout

    async def send(self, message: OutgoingMessage) -> int:
        """Send a message; returns Telegram's message id."""
        reply = (
            ReplyParameters(message_id=message.reply_to_message_id, allow_sending_without_reply=True)
            if message.reply_to_message_id
            else None
        )
        async with _mapped_errors():
            if message.media_kind is None:
                sent = await self.bot.send_message(
                    chat_id=message.chat_id,
                    text=message.text,
                    reply_parameters=reply,
                    reply_markup=keyboard(message),
                    request_timeout=self.timeout,
                )
            else:
                send = self.bot.send_photo if message.media_kind == MediaKind.PHOTO else self.bot.send_document
                sent = await send(
                    message.chat_id,
                    _input_file(message),
                    caption=message.text or None,
                    reply_parameters=reply,
                    reply_markup=keyboard(message),
                    request_timeout=self.timeout,
                )
        return sent.message_id

    async def download(self, file_id: str) -> bytes:
        """The bytes of a file a user sent (a roster, a photo)."""
        async with _mapped_errors():
            buffer = await self.bot.download(file_id, timeout=self.timeout)
        return buffer.read() if buffer is not None else b""

    async def edit(self, message: OutgoingMessage, message_id: int) -> None:
        """Edit the text (the caption of a photo or file) and buttons of an earlier message."""
        markup = keyboard(message)
        async with _mapped_errors():
            if message.media_kind is not None:
                await self.bot.edit_message_caption(
                    chat_id=message.chat_id,
                    message_id=message_id,
                    caption=message.text,
                    reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                    request_timeout=self.timeout,
                )
                return
            await self.bot.edit_message_text(
                chat_id=message.chat_id,
                message_id=message_id,
                text=message.text,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                request_timeout=self.timeout,
            )


def _input_file(message: OutgoingMessage) -> str | BufferedInputFile:
    """A Telegram file id as it is, or the bytes of a ``file:<path>`` to upload."""
    media = message.media or ""
    if media.startswith(FILE_PREFIX):
        path = Path(media.removeprefix(FILE_PREFIX))
        return BufferedInputFile(path.read_bytes(), filename=path.name)
    return media


class _mapped_errors:
    """Translate aiogram's exceptions into the core's DeliveryError family."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None:
            return False
        if isinstance(exc, TelegramRetryAfter):
            raise RetryLater(float(exc.retry_after)) from exc
        if isinstance(exc, TelegramMigrateToChat):
            raise ChatMoved(exc.migrate_to_chat_id) from exc
        if isinstance(exc, TelegramForbiddenError):
            raise ChatGone(exc.message) from exc
        if isinstance(exc, TelegramBadRequest | TelegramNotFound):
            raise Rejected(exc.message) from exc
        if isinstance(exc, TelegramServerError):
            raise Unreachable(exc.message) from exc
        if isinstance(exc, TelegramNetworkError):
            if any(name in exc.message for name in _CERTAIN_FAILURES):
                raise Unreachable(exc.message) from exc
            raise Uncertain(exc.message) from exc
        return False
