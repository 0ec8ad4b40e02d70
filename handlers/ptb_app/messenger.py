"""The Messenger port over python-telegram-bot's Bot, with errors mapped to the core's delivery errors."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.core.model import MediaKind, OutgoingMessage
from bot.core.ports import FILE_PREFIX, ChatGone, ChatMoved, Rejected, RetryLater, Uncertain, Unreachable

SEND_TIMEOUT = 15.0
_NOT_SENT = ("ConnectTimeout", "PoolTimeout")
_MAYBE_SENT = ("RemoteProtocolError", "ReadError")


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | ForceReply | None:
    """The reply markup of an outgoing message."""
    if message.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.text, callback_data=b.data, url=b.url) for b in row] for row in message.buttons]
        )
    if message.force_reply:
        return ForceReply(selective=True)
    return None


def retry_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whether PTB gives an int or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PtbMessenger:
    """Sends and edits messages with python-telegram-bot."""

    def __init__(self, bot: Bot, timeout: float = SEND_TIMEOUT) -> None:
        self.bot = bot
        self.timeout = timeout

    async def send(self, message: OutgoingMessage) -> int:
        """Send a message; returns Telegram's message id."""
        reply = (
            ReplyParameters(message.reply_to_message_id, allow_sending_without_reply=True)
            if message.reply_to_message_id
            else None
        )
        try:
            if message.media_kind is None:
                sent = await self.bot.send_message(
                    chat_id=message.chat_id,
                    text=message.text,
                    reply_parameters=reply,
                    reply_markup=keyboard(message),
                    read_timeout=self.timeout,
                    write_timeout=self.timeout,
                )
            else:
                send = self.bot.send_photo if message.media_kind == MediaKind.PHOTO else self.bot.send_document
                sent = await send(
                    message.chat_id,
                    _input_file(message),
                    caption=message.text or None,
                    reply_parameters=reply,
                    reply_markup=keyboard(message),
                    read_timeout=self.timeout,
                    write_timeout=self.timeout,
                )
        except Exception as err:
            raise _mapped(err) from err
        return sent.message_id

    async def download(self, file_id: str) -> bytes:
        """The bytes of a file a user sent (a roster, a photo)."""
        try:
            file = await self.bot.get_file(file_id, read_timeout=self.timeout)
            return bytes(await file.download_as_bytearray(read_timeout=self.timeout))
        except Exception as err:
            raise _mapped(err) from err

    async def edit(self, message: OutgoingMessage, message_id: int) -> None:
        """Edit the text (the caption of a photo or file) and buttons of an earlier message."""
        markup = keyboard(message)
        try:
            if message.media_kind is not None:
                await self.bot.edit_message_caption(
                    chat_id=message.chat_id,
                    message_id=message_id,
                    caption=message.text,
                    reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                    read_timeout=self.timeout,
                    write_timeout=self.timeout,
                )
                return
            await self.bot.edit_message_text(
                chat_id=message.chat_id,
                message_id=message_id,
                text=message.text,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                read_timeout=self.timeout,
                write_timeout=self.timeout,
            )
        except Exception as err:
            raise _mapped(err) from err


def _input_file(message: OutgoingMessage) -> str | InputFile:
    """A Telegram file id as it is, or the bytes of a ``file:<path>`` to upload."""
    media = message.media or ""
    if media.startswith(FILE_PREFIX):
        path = Path(media.removeprefix(FILE_PREFIX))
        return InputFile(path.read_bytes(), filename=path.name)
    return media


def _mapped(err: Exception) -> Exception:
    """Translate PTB's exceptions into the core's DeliveryError family (others pass through)."""
    if isinstance(err, RetryAfter):
        return RetryLater(retry_seconds(err))
    if isinstance(err, ChatMigrated):
        return ChatMoved(err.new_chat_id)
    if isinstance(err, Forbidden):
        return ChatGone(err.message)
    if isinstance(err, BadRequest):
        return Rejected(err.message)
    if isinstance(err, TimedOut):
        # A connect or pool timeout happened before the request left; a read timeout is uncertain.
        if type(err.__cause__).__name__ in _NOT_SENT:
            return Unreachable(err.message)
        return Uncertain(err.message)
    if isinstance(err, NetworkError):
        # Connection refused and 5xx answers: Telegram did not take the message. A dropped
        # connection after the request was written may have delivered it.
        if type(err.__cause__).__name__ in _MAYBE_SENT:
            return Uncertain(err.message)
        return Unreachable(err.message)
    return err
