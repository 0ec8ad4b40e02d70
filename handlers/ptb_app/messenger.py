"""The Messenger port over python-telegram-bot's Bot, with errors mapped to the core's delivery errors."""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.core.model import OutgoingMessage
from bot.core.ports import ChatGone, ChatMoved, Rejected, RetryLater, Uncertain, Unreachable

SEND_TIMEOUT = 15
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

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: OutgoingMessage) -> int:
        """Send a message; returns Telegram's message id."""
        reply = (
            ReplyParameters(message.reply_to_message_id, allow_sending_without_reply=True)
            if message.reply_to_message_id
            else None
        )
        try:
            sent = await self.bot.send_message(
                chat_id=message.chat_id,
                text=message.text,
                reply_parameters=reply,
                reply_markup=keyboard(message),
                read_timeout=SEND_TIMEOUT,
                write_timeout=SEND_TIMEOUT,
            )
        except Exception as err:
            raise _mapped(err) from err
        return sent.message_id

    async def edit(self, message: OutgoingMessage, message_id: int) -> None:
        """Edit the text and buttons of an earlier message."""
        markup = keyboard(message)
        try:
            await self.bot.edit_message_text(
                chat_id=message.chat_id,
                message_id=message_id,
                text=message.text,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                read_timeout=SEND_TIMEOUT,
                write_timeout=SEND_TIMEOUT,
            )
        except Exception as err:
            raise _mapped(err) from err


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
