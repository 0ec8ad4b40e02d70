"""Turn Telegram objects into the core's plain events, for both adapters.

aiogram and python-telegram-bot both name their objects' fields after the Bot API (``from_user``,
``message_id``, ``reply_to_message`` …), so one translation serves both; it reads attributes only.
"""

from __future__ import annotations

from typing import Any

from bot.core.events import Actor, BotMembershipChanged, ButtonPress, ChatRef, Command, IncomingMessage

MEDIA_KINDS = ("photo", "sticker", "document", "video", "voice", "audio", "animation", "location", "contact")


def actor(user: Any) -> Actor:
    """The core's Actor for a Telegram user (anonymous admins become id 0)."""
    if user is None:
        return Actor(0, "")
    return Actor(user.id, user.full_name, user.username, user.is_bot)


def chat_ref(chat: Any) -> ChatRef:
    """The core's ChatRef for a Telegram chat."""
    title = chat.title or " ".join(p for p in (chat.first_name, chat.last_name) if p)
    return ChatRef(chat.id, chat.type, title or "")


def parse_command(text: str, bot_username: str) -> tuple[str, str] | None:
    """(name, args) when ``text`` is a command for this bot; None for plain text or another bot's command."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text.partition(" ")
    name, _, mention = head[1:].partition("@")
    if mention and bot_username and mention.lower() != bot_username.lower():
        return None
    if not name or not name.replace("_", "").isalnum():
        return None
    return name, args.strip()


def command(message: Any, update_id: int | None, bot_username: str) -> Command | None:
    """A Command event when the message is a /command addressed to this bot."""
    parsed = parse_command(_text(message.text), bot_username)
    if parsed is None:
        return None
    reply = message.reply_to_message
    return Command(
        update_id=update_id,
        chat=chat_ref(message.chat),
        actor=actor(message.from_user),
        message_id=message.message_id,
        name=parsed[0],
        args=parsed[1],
        reply_to_message_id=reply.message_id if reply else None,
        reply_to_author=actor(reply.from_user) if reply and reply.from_user else None,
    )


def _attachment(message: Any) -> tuple[str | None, str | None, int | None]:
    """(file id, file name, size) of the largest photo or the document of a message."""
    photos = getattr(message, "photo", None)
    if photos:
        largest = max(photos, key=lambda p: (p.width or 0) * (p.height or 0))
        return largest.file_id, None, largest.file_size
    document = getattr(message, "document", None)
    if document is not None:
        return document.file_id, document.file_name, document.file_size
    return None, None, None


def _text(value: Any) -> str:
    """A message's text or caption as a string; anything else a malformed update carries counts as none."""
    return value if isinstance(value, str) else ""


def incoming(message: Any, update_id: int | None, *, edited: bool = False) -> IncomingMessage:
    """An IncomingMessage: text, or a caption with its media kind, file id and location."""
    media = next((kind for kind in MEDIA_KINDS if getattr(message, kind, None)), None)
    file_id, file_name, file_size = _attachment(message)
    location = getattr(message, "location", None)
    return IncomingMessage(
        update_id=update_id,
        chat=chat_ref(message.chat),
        actor=actor(message.from_user),
        message_id=message.message_id,
        text=_text(message.text) or _text(message.caption),
        media=media,
        reply_to_message_id=message.reply_to_message.message_id if message.reply_to_message else None,
        edited=edited,
        file_id=file_id,
        file_name=file_name,
        file_size=file_size,
        location=(location.latitude, location.longitude) if location is not None else None,
        forwarded=getattr(message, "forward_origin", None) is not None,
    )


def press(query: Any, update_id: int | None) -> ButtonPress | None:
    """A ButtonPress, or None when the button's message is no longer accessible."""
    message = query.message
    if message is None or getattr(message, "chat", None) is None:
        return None
    return ButtonPress(
        update_id=update_id,
        chat=chat_ref(message.chat),
        actor=actor(query.from_user),
        message_id=message.message_id,
        data=query.data or "",
    )


def membership(event: Any, update_id: int | None) -> BotMembershipChanged:
    """The bot's own membership change."""
    return BotMembershipChanged(update_id, chat_ref(event.chat), event.new_chat_member.status, actor(event.from_user))
