"""Plain events that every chat-framework adapter produces from an update: ids, names and text only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """The Telegram user behind an event."""

    user_id: int
    name: str
    username: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class ChatRef:
    """The chat an event happened in."""

    chat_id: int
    type: str
    title: str = ""

    @property
    def is_private(self) -> bool:
        """True for a one-to-one chat with the bot."""
        return self.type == "private"


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message from a person: text, or media with an optional caption.

    ``media`` is the kind (photo, document, location …); ``file_id`` is the largest photo's or the
    document's Telegram file id, ``location`` is (latitude, longitude), ``forwarded`` marks a message
    forwarded from elsewhere.
    """

    update_id: int | None
    chat: ChatRef
    actor: Actor
    message_id: int
    text: str = ""
    media: str | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    file_id: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    location: tuple[float, float] | None = None
    forwarded: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """A /command addressed to the bot."""

    update_id: int | None
    chat: ChatRef
    actor: Actor
    message_id: int
    name: str
    args: str = ""
    reply_to_message_id: int | None = None
    reply_to_author: Actor | None = None


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """An inline button pressed by someone."""

    update_id: int | None
    chat: ChatRef
    actor: Actor
    message_id: int
    data: str


@dataclass(frozen=True, slots=True)
class BotMembershipChanged:
    """The bot was added to, promoted in, or removed from a chat."""

    update_id: int | None
    chat: ChatRef
    status: str
    actor: Actor | None = None


@dataclass(frozen=True, slots=True)
class ChatMigrated:
    """A group became a supergroup with a new id."""

    update_id: int | None
    old_chat_id: int
    new_chat_id: int


@dataclass(frozen=True, slots=True)
class PressAnswer:
    """What the adapter shows the presser of a button (answerCallbackQuery)."""

    text: str = ""
    alert: bool = False
