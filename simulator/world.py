"""The simulated Telegram: users, chats, messages, pending updates, files, callback queries, faults.

Every state change is a plain synchronous method, so under asyncio it runs to completion without
interleaving: no lock is needed, and a coroutine that awaits (a long poll, a webhook post) only reads
state after waking. Message dicts are never changed in place once stored; an edit stores a new dict,
so events and answers can hand out references without copying.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.config import DEFAULT_BOT_ID, SimulatorConfig
from simulator.errors import ApiError, SimError, api_error, bad_request, forbidden, migrated
from simulator.formatting import detect_entities
from simulator.media import extension_for, guess_mime, image_size, solid_png
from simulator.ratelimit import DeliveryStats, FloodControl
from simulator.signals import EventLog, KeyedSignals, Signal

Json = dict[str, Any]

UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_ALLOWED_UPDATES = UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}
GROUP_TYPES = frozenset({"group", "supergroup"})
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
PRESENT_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
GROUP_ANONYMOUS_BOT: Json = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
_ADMIN_RIGHTS: Json = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": False,
    "can_send_welcome_messages": False,
}


def now_ts() -> int:
    """Return the current Unix time in whole seconds, as message dates are."""
    return int(time.time())


def strip_reply(message: Json) -> Json:
    """Return a message as embedded in reply_to_message: Telegram nests only one level."""
    if "reply_to_message" not in message:
        return message
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def inline_callback_data(message: Json) -> set[str]:
    """Return the callback_data values of a message's inline keyboard."""
    markup = message.get("reply_markup") or {}
    return {
        button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    }


@dataclass(slots=True)
class Chat:
    """A chat as the simulator keeps it; `public` is the Chat object embedded in messages."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    user: Json | None = None  # the other side of a private chat
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    messages: dict[int, Json] = field(default_factory=dict)
    next_message_id: int = 1
    migrated_to: int | None = None
    migrated_from: int | None = None
    started: bool = False
    blocked: bool = False
    pinned_message_id: int | None = None
    reply_keyboard: Json | None = None
    public: Json = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refresh_public()

    @property
    def is_group(self) -> bool:
        """True for groups and supergroups."""
        return self.type in GROUP_TYPES

    def refresh_public(self) -> None:
        """Rebuild the embedded Chat object after a title or user change."""
        public: Json = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            public["first_name"] = self.user["first_name"]
            for key in ("last_name", "username"):
                if self.user.get(key):
                    public[key] = self.user[key]
        else:
            public["title"] = self.title or ""
            if self.username:
                public["username"] = self.username
        self.public = public

    def describe(self) -> Json:
        """Return the test-side view of the chat: public object plus simulator state."""
        return {
            **self.public,
            "bot_status": self.bot_status,
            "members": {str(k): v for k, v in self.members.items()},
            "message_count": len(self.messages),
            "migrated_to_chat_id": self.migrated_to,
            "migrated_from_chat_id": self.migrated_from,
            "started": self.started,
            "blocked": self.blocked,
            "pinned_message_id": self.pinned_message_id,
            "reply_keyboard": self.reply_keyboard,
        }


@dataclass(slots=True)
class FileRecord:
    """One stored file and the ids Telegram would give it."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    mime_type: str

    def as_file(self) -> Json:
        """Return the Bot API File object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass(slots=True)
class CallbackRecord:
    """A button press and the bot's answer, once it comes."""

    query: Json
    chat_id: int
    created: float
    answer: Json | None = None


@dataclass(slots=True)
class FailRule:
    """A forced failure for the next `remaining` calls of a method."""

    code: int
    remaining: int
    retry_after: int | None = None
    description: str | None = None

    def error(self) -> ApiError:
        """Build the error this rule answers with."""
        if self.code == 429:
            retry_after = self.retry_after or 1
            parameters = {"retry_after": retry_after}
            return ApiError(
                429, self.description or f"Too Many Requests: retry after {retry_after}", parameters
            )
        if self.description:
            return ApiError(self.code, self.description)
        return api_error(self.code)


@dataclass(slots=True)
class DelayRule:
    """Slow answers: wait `seconds` before answering the next `remaining` calls (None: all).

    With ``after`` the call takes effect first and only its answer is late, as when Telegram delivered
    a message but the answer missed the client's read timeout.
    """

    seconds: float
    remaining: int | None = None
    after: bool = False


@dataclass(slots=True)
class Webhook:
    """The webhook the bot set, and how its deliveries went."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0


class World:
    """All simulated state, with the test-side actions (users) and the helpers the Bot API uses."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.flood = FloodControl(config.limits)
        self.stats = DeliveryStats()
        self.events = EventLog(config.events_kept)
        self.updates_changed = Signal()
        self.chat_changed = KeyedSignals()
        self.answer_given = KeyedSignals()
        self._bot_id: int | None = config.bot_id
        if self._bot_id is None and config.token:
            self._bot_id = _token_bot_id(config.token)
        self._bot_user: Json | None = None
        self.closing = False  # set on shutdown: long polls and streams return at once
        self.instance = secrets.token_hex(6)  # tells a page that reconnects whether this is a new server
        self._reset_state()

    # ----------------------------------------------------------------- identity

    @property
    def bot_id(self) -> int:
        """The bot's user id."""
        return self._bot_id if self._bot_id is not None else DEFAULT_BOT_ID

    def accepts_token(self, token: str) -> bool:
        """Check a request's token; with any-token mode the first token's numeric id becomes the bot's."""
        if self.config.token is not None:
            return token == self.config.token
        if self._bot_id is None:
            self._bot_id = _token_bot_id(token) or DEFAULT_BOT_ID
            self._bot_user = None
        return True

    def bot_user(self) -> Json:
        """The bot as a User object (as it appears in `from`)."""
        if self._bot_user is None:
            self._bot_user = {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": self.config.bot_first_name,
                "username": self.config.bot_username,
            }
        return self._bot_user

    def get_me(self) -> Json:
        """The answer to getMe."""
        return {
            **self.bot_user(),
            "can_join_groups": self.config.can_join_groups,
            "can_read_all_group_messages": self.config.can_read_all_group_messages,
            "supports_inline_queries": self.config.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def set_bot(self, **changes: Any) -> Json:
        """Change the bot's username, first name or capabilities."""
        allowed = {
            "bot_username",
            "bot_first_name",
            "can_join_groups",
            "can_read_all_group_messages",
            "supports_inline_queries",
            "bot_id",
        }
        for key, value in changes.items():
            if key not in allowed:
                raise SimError(f"unknown bot setting: {key}")
            if value is None:
                continue
            if key == "bot_id":
                self._bot_id = int(value)
            else:
                setattr(self.config, key, value)
        self._bot_user = None
        return self.get_me()

    # ----------------------------------------------------------------- reset

    def _reset_state(self) -> None:
        """Create empty state (keeps the bot's identity, token and limits)."""
        self.users: dict[int, Json] = {}
        self.user_labels: dict[int, str] = {}
        self.chats: dict[int, Chat] = {}
        self._chat_usernames: dict[str, int] = {}
        self._updates: dict[int, Json] = {}
        self._update_order: deque[int] = deque()
        self._next_update_id = max(1, self.config.first_update_id)
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self.callbacks: dict[str, CallbackRecord] = {}
        self.files: dict[str, FileRecord] = {}
        self._file_paths: dict[str, FileRecord] = {}
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.webhook: Webhook | None = None
        self.fail_rules: dict[str, FailRule] = {}
        self.delay_rules: dict[str, DelayRule] = {}
        self._ids = itertools.count(1)
        self._group_ids = itertools.count(1)
        self._supergroup_ids = itertools.count(1)

    def reset(self) -> None:
        """Forget every user, chat, message, update, file, fault and figure."""
        self._reset_state()
        self.flood.reset()
        self.stats.reset()
        self.events.clear()
        self.events.publish("reset")
        self.updates_changed.fire()

    # ----------------------------------------------------------------- users and chats

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        is_bot: bool = False,
        label: str | None = None,
    ) -> Json:
        """Create (or replace) a user; `label` (e.g. "3栋 楼栋长") is for the chat page, never sent to the bot."""
        user: Json = {"id": int(user_id), "is_bot": bool(is_bot), "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user["id"]] = user
        if label:
            self.user_labels[user["id"]] = label
        private = self.chats.get(user["id"])
        if private is not None and private.type == "private":
            private.user = user
            private.refresh_public()
        return user

    def user(self, user_id: int) -> Json:
        """Return a user, creating a placeholder one for an id never added."""
        user = self.users.get(int(user_id))
        if user is None:
            user = self.add_user(int(user_id), f"用户{user_id}")
        return user

    def create_chat(
        self,
        title: str | None = None,
        type: str = "group",
        chat_id: int | None = None,
        username: str | None = None,
        bot_status: str = "member",
        creator_id: int | None = None,
        members: list[int] | None = None,
    ) -> Json:
        """Create a group, supergroup or private chat with the bot already in it (no updates are sent)."""
        if type not in ("group", "supergroup", "private"):
            raise SimError(f"unknown chat type: {type}")
        if type == "private":
            if chat_id is None:
                raise SimError("a private chat needs chat_id = the user's id")
            user = self.user(chat_id)
            chat = Chat(id=int(chat_id), type="private", user=user, members={user["id"]: "member"})
        else:
            if chat_id is None:
                chat_id = self._new_chat_id(type)
            elif (type == "supergroup") != str(chat_id).startswith("-100") or int(chat_id) >= 0:
                raise SimError("group ids are negative; supergroup ids start with -100")
            if bot_status not in MEMBER_STATUSES - {"creator", "restricted"}:
                raise SimError(f"bad bot_status: {bot_status}")
            chat = Chat(
                id=int(chat_id), type=type, title=title or f"群{abs(int(chat_id))}", username=username
            )
            chat.bot_status = bot_status
            if creator_id is not None:
                self.user(creator_id)
                chat.members[int(creator_id)] = "creator"
            for member in members or []:
                self.user(member)
                chat.members.setdefault(int(member), "member")
        if chat.id in self.chats:
            raise SimError(f"chat {chat.id} exists already", 409)
        self._add_chat(chat)
        self.events.publish("chat", chat_id=chat.id, change="created", chat=chat.describe())
        return chat.public

    def _new_chat_id(self, chat_type: str) -> int:
        """Make a fresh id of the right shape (groups -4…, supergroups -100…)."""
        while True:
            if chat_type == "supergroup":
                candidate = -(1_001_000_000_000 + next(self._supergroup_ids))
            else:
                candidate = -(4_000_000_000 + next(self._group_ids))
            if candidate not in self.chats:
                return candidate

    def _add_chat(self, chat: Chat) -> None:
        """Register a chat."""
        self.chats[chat.id] = chat
        if chat.username:
            self._chat_usernames[chat.username.lower()] = chat.id

    def chat(self, chat_id: int) -> Chat:
        """Return a chat for the test side, or refuse."""
        chat = self.chats.get(int(chat_id))
        if chat is None:
            raise SimError(f"chat {chat_id} not found", 404)
        return chat

    def find_chat(self, ref: int | str) -> Chat | None:
        """Resolve a Bot API chat_id (number or @username)."""
        if isinstance(ref, str):
            return self.chats.get(self._chat_usernames.get(ref.lstrip("@").lower(), 0))
        return self.chats.get(ref)

    # ----------------------------------------------------------------- bot-side checks

    def chat_for_bot(self, ref: int | str | None) -> Chat:
        """Resolve the chat a bot addresses, raising what Telegram raises (not found, kicked, migrated…)."""
        if ref is None or ref == "":
            raise bad_request("chat_id is empty")
        chat = self.find_chat(ref)
        if chat is None:
            if isinstance(ref, int) and ref in self.users:
                raise forbidden("bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise migrated(chat.migrated_to)
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        elif chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    def bot_is_admin(self, chat: Chat) -> bool:
        """True when the bot may act as an administrator in the chat."""
        return chat.type == "private" or chat.bot_status in ("administrator", "creator")

    # ----------------------------------------------------------------- messages

    def _post(self, chat: Chat, body: Json, sender: Json, reply_to: Json | None = None) -> Json:
        """Store a new message in a chat and return it."""
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: Json = {"message_id": message_id, "from": sender, "chat": chat.public, "date": now_ts()}
        if reply_to is not None:
            message["reply_to_message"] = strip_reply(reply_to)
        message.update(body)
        chat.messages[message_id] = message
        return message

    def post_bot_message(
        self, chat: Chat, body: Json, reply_to: Json | None = None, client_markup: Json | None = None
    ) -> Json:
        """Deliver a message from the bot: store, count against the limits, announce.

        `client_markup` (force_reply, a reply keyboard) is not part of a Message; the event carries it so a
        chat page can act on it.
        """
        message = self._post(chat, body, self.bot_user(), reply_to)
        self.flood.consume(chat.id, chat.is_group)
        self.stats.record_delivery(chat.id, chat.is_group)
        extra = {"client_markup": client_markup} if client_markup else {}
        self.events.publish("message", chat_id=chat.id, from_bot=True, message=message, **extra)
        self.chat_changed.fire(chat.id)
        return message

    def replace_message(self, chat: Chat, message: Json, *, by_bot: bool, counted: bool) -> Json:
        """Store an edited version of a message and announce the edit."""
        chat.messages[message["message_id"]] = message
        if by_bot:
            self.stats.edits += 1
            if counted:
                self.flood.consume(chat.id, chat.is_group)
        self.events.publish("edit", chat_id=chat.id, from_bot=by_bot, message=message)
        self.chat_changed.fire(chat.id)
        return message

    def delete_message(self, chat: Chat, message_id: int) -> None:
        """Remove a message from a chat and announce it."""
        del chat.messages[message_id]
        if chat.pinned_message_id == message_id:
            chat.pinned_message_id = None
        self.events.publish("delete", chat_id=chat.id, message_id=message_id)
        self.chat_changed.fire(chat.id)

    def post_service_message(
        self, chat: Chat, body: Json, sender: Json, *, deliver: bool = True, extra: Json | None = None
    ) -> Json:
        """Store a service message (members, migration, pin) and send it to the bot as an update."""
        message = self._post(chat, {**body, **(extra or {})}, sender)
        self.events.publish("message", chat_id=chat.id, from_bot=sender["id"] == self.bot_id, message=message)
        self.chat_changed.fire(chat.id)
        if deliver and chat.bot_status in PRESENT_STATUSES and sender["id"] != self.bot_id:
            self.emit_update("message", message)
        return message

    def messages(
        self,
        chat_id: int,
        from_bot: bool | None = None,
        after_message_id: int = 0,
        limit: int | None = None,
    ) -> list[Json]:
        """Return a chat's messages in order (current text and markup), optionally only the bot's."""
        chat = self.chat(chat_id)
        found: Iterator[Json]
        if after_message_id:
            found = (
                chat.messages[i]
                for i in range(after_message_id + 1, chat.next_message_id)
                if i in chat.messages
            )
        else:
            found = iter(chat.messages.values())
        if from_bot is not None:
            bot_id = self.bot_id
            found = (
                m for m in found if (m["from"]["id"] == bot_id) == from_bot and "pinned_message" not in m
            )
        return list(itertools.islice(found, limit))

    # ----------------------------------------------------------------- users act

    def user_sends(
        self,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        reply_to_message_id: int | None = None,
        photo: bool = False,
        caption: str | None = None,
        sticker: bool = False,
        document: str | Json | None = None,
        location: Sequence[float] | None = None,
        forwarded_from: str | None = None,
    ) -> Json:
        """A user writes in a chat; the bot gets a `message` update if it can see it.

        ``location`` is (latitude, longitude) of a location pin; ``forwarded_from`` makes the message a
        forward of someone else's words (``forward_origin`` of type hidden_user with that name).
        """
        user = self.user(user_id)
        chat = self.chats.get(int(chat_id))
        if chat is None:
            if int(chat_id) != user["id"]:
                raise SimError(f"chat {chat_id} not found", 404)
            self.create_chat(type="private", chat_id=user["id"])
            chat = self.chats[user["id"]]
        if chat.migrated_to is not None:
            raise SimError(f"chat {chat.id} was migrated to {chat.migrated_to}", 409)
        if chat.type == "private":
            if chat.id != user["id"]:
                raise SimError("only the chat's own user writes in a private chat")
            if chat.blocked:
                self._set_private_blocked(chat, False)
            chat.started = True
        else:
            status = chat.members.get(user["id"])
            if status == "kicked":
                raise SimError(f"user {user_id} is banned from chat {chat.id}", 403)
            if status not in PRESENT_STATUSES:
                chat.members[user["id"]] = "member"
        body = self._content(text, photo, caption, sticker, document, location)
        if forwarded_from is not None:
            body["forward_origin"] = {"type": "hidden_user", "sender_user_name": str(forwarded_from), "date": now_ts()}
        reply_to = None
        if reply_to_message_id is not None:
            reply_to = chat.messages.get(int(reply_to_message_id))
            if reply_to is None:
                raise SimError(f"message {reply_to_message_id} not found in chat {chat.id}", 404)
        message = self._post(chat, body, user, reply_to)
        self.events.publish("message", chat_id=chat.id, from_bot=False, message=message)
        self.chat_changed.fire(chat.id)
        if self._bot_sees(chat, message):
            self.emit_update("message", message)
        return message

    def _content(
        self,
        text: str | None,
        photo: bool,
        caption: str | None,
        sticker: bool,
        document: str | Json | None,
        location: Sequence[float] | None = None,
    ) -> Json:
        """Build the content fields of a user's message."""
        if sum((bool(photo), bool(sticker), document is not None, location is not None)) > 1:
            raise SimError("a message carries one of photo, sticker, document or location")
        body: Json = {}
        if location is not None:
            if len(location) != 2:
                raise SimError("a location is [latitude, longitude]")
            latitude, longitude = float(location[0]), float(location[1])
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise SimError("latitude must be within ±90 and longitude within ±180")
            body["location"] = {"latitude": latitude, "longitude": longitude}
            return body
        if photo or document is not None:
            if photo:
                data = solid_png(320, 240)
                body["photo"] = self.photo_sizes(data)
            else:
                body["document"] = self._user_document(document)
            if caption:
                body["caption"] = caption
                entities = detect_entities(caption)
                if entities:
                    body["caption_entities"] = entities
            return body
        if sticker:
            record = self.store_file(solid_png(64, 64), "stickers", "webp", "image/webp")
            body["sticker"] = {
                "file_id": record.file_id,
                "file_unique_id": record.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
                "set_name": "SimulatorStickers",
                "file_size": len(record.data),
            }
            return body
        if not text:
            raise SimError("a text message needs text")
        body["text"] = text
        entities = detect_entities(text)
        if entities:
            body["entities"] = entities
        return body

    def _user_document(self, document: str | Json | None) -> Json:
        """Store the document a user sends (a file name, or {file_name, mime_type, data})."""
        if isinstance(document, dict):
            name = str(document.get("file_name") or "document.bin")
            raw = document.get("data", "")
            data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
            mime = document.get("mime_type")
        else:
            name = str(document or "document.bin")
            data = f"simulated content of {name}\n".encode()
            mime = None
        return self.document_object(data, name, mime)

    def _bot_sees(self, chat: Chat, message: Json) -> bool:
        """Whether the bot receives this user message (membership, privacy mode)."""
        if chat.type == "private":
            return True
        if chat.bot_status not in PRESENT_STATUSES:
            return False
        if self.config.can_read_all_group_messages or self.bot_is_admin(chat):
            return True
        text = message.get("text") or message.get("caption") or ""
        username = "@" + self.config.bot_username.lower()
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0].lower()
            if "@" not in command or command.endswith(username):
                return True
        reply = message.get("reply_to_message")
        if reply is not None and reply["from"]["id"] == self.bot_id:
            return True
        return username in text.lower()

    def user_edits(self, chat_id: int, message_id: int, user_id: int, new_text: str) -> Json:
        """A user edits their own text message; the bot gets an `edited_message` update."""
        chat = self.chat(chat_id)
        old = chat.messages.get(int(message_id))
        if old is None:
            raise SimError(f"message {message_id} not found in chat {chat.id}", 404)
        if old["from"]["id"] != int(user_id):
            raise SimError("a user can only edit their own messages", 403)
        if "text" not in old:
            raise SimError("only text messages can be edited this way")
        if not new_text:
            raise SimError("the new text is empty")
        message = {k: v for k, v in old.items() if k != "entities"}
        message["text"] = new_text
        message["edit_date"] = now_ts()
        entities = detect_entities(new_text)
        if entities:
            message["entities"] = entities
        self.replace_message(chat, message, by_bot=False, counted=False)
        if self._bot_sees(chat, message):
            self.emit_update("edited_message", message)
        return message

    def press_button(
        self, chat_id: int, message_id: int, user_id: int, callback_data: str, forge: bool = False
    ) -> str:
        """A user presses an inline button; the bot gets a `callback_query` update. Returns the query id."""
        chat = self.chat(chat_id)
        message = chat.messages.get(int(message_id))
        if message is None:
            raise SimError(f"message {message_id} not found in chat {chat.id}", 404)
        if message["from"]["id"] != self.bot_id:
            raise SimError("only the bot's messages carry inline buttons")
        if not forge and callback_data not in inline_callback_data(message):
            raise SimError(
                f"callback_data {callback_data!r} is not on the keyboard of message {message_id}; "
                "pass forge=True to send it anyway"
            )
        if chat.is_group and chat.bot_status not in PRESENT_STATUSES:
            raise SimError("the bot is not in this chat any more", 409)
        user = self.user(user_id)
        query_id = str(4_000_000_000_000_000_000 + next(self._ids) * 7919)
        query: Json = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str((-chat.id * 2654435761) % 10**19),
            "data": callback_data,
        }
        self.callbacks[query_id] = CallbackRecord(query=query, chat_id=chat.id, created=time.monotonic())
        self.events.publish("callback_query", chat_id=chat.id, callback_query=query)
        self.emit_update("callback_query", query)
        return query_id

    def answer_callback(self, query_id: str, answer: Json) -> None:
        """Record the bot's answer to a button press (once, and only in time, as Telegram allows)."""
        record = self.callbacks.get(query_id)
        too_late = (
            record is not None and time.monotonic() - record.created > self.config.callback_answer_timeout
        )
        if record is None or record.answer is not None or too_late:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        record.answer = {**answer, "answered_at": round(time.time(), 3)}
        self.events.publish(
            "callback_answer", chat_id=record.chat_id, callback_query_id=query_id, answer=record.answer
        )
        self.answer_given.fire(query_id)

    def callback_answer(self, query_id: str) -> Json | None:
        """Return the bot's answer to a press, or None while unanswered."""
        record = self.callbacks.get(query_id)
        if record is None:
            raise SimError(f"no callback query {query_id}", 404)
        return record.answer

    # ----------------------------------------------------------------- membership

    def member_object(self, chat: Chat, user: Json, status: str) -> Json:
        """Build the ChatMember object for a user with a status."""
        member: Json = {"user": user, "status": status}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(_ADMIN_RIGHTS)
        elif status == "kicked":
            member["until_date"] = 0
        elif status == "restricted":
            member.update(
                {
                    "is_member": True,
                    "can_send_messages": False,
                    "can_send_audios": False,
                    "can_send_documents": False,
                    "can_send_photos": False,
                    "can_send_videos": False,
                    "can_send_video_notes": False,
                    "can_send_voice_notes": False,
                    "can_send_polls": False,
                    "can_send_other_messages": False,
                    "can_add_web_page_previews": False,
                    "can_change_info": False,
                    "can_invite_users": False,
                    "can_pin_messages": False,
                    "can_manage_topics": False,
                    "until_date": 0,
                }
            )
        return member

    def _actor(self, chat: Chat, by_user_id: int | None) -> Json:
        """The user who performs an admin action: given, else the creator, else an anonymous admin."""
        if by_user_id is not None:
            return self.user(by_user_id)
        for user_id, status in chat.members.items():
            if status == "creator":
                return self.user(user_id)
        for user_id, status in chat.members.items():
            if status == "administrator":
                return self.user(user_id)
        return GROUP_ANONYMOUS_BOT

    def _emit_my_chat_member(self, chat: Chat, actor: Json, old: str, new: str) -> None:
        """Tell the bot its own membership changed."""
        self.emit_update(
            "my_chat_member",
            {
                "chat": chat.public,
                "from": actor,
                "date": now_ts(),
                "old_chat_member": self.member_object(chat, self.bot_user(), old),
                "new_chat_member": self.member_object(chat, self.bot_user(), new),
            },
        )

    def set_bot_status(self, chat_id: int, status: str, by_user_id: int | None = None) -> Json:
        """Change the bot's status in a group (kicked, left, member, administrator), as Telegram reports it."""
        chat = self.chat(chat_id)
        if chat.type == "private":
            self._set_private_blocked(chat, status in ("kicked", "left"))
            return chat.describe()
        if status not in ("kicked", "left", "member", "administrator"):
            raise SimError(f"bad bot status: {status}")
        old = chat.bot_status
        if old == status:
            return chat.describe()
        actor = self._actor(chat, by_user_id)
        chat.bot_status = status
        self.events.publish("chat", chat_id=chat.id, change="bot_status", old=old, new=status)
        self._emit_my_chat_member(chat, actor, old, status)
        if old not in PRESENT_STATUSES and status in PRESENT_STATUSES:
            bot = self.bot_user()
            self.post_service_message(
                chat,
                {"new_chat_participant": bot, "new_chat_member": bot, "new_chat_members": [bot]},
                actor,
            )
        return chat.describe()

    def bot_leaves(self, chat: Chat) -> None:
        """The bot leaves a group on its own (leaveChat)."""
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        old = chat.bot_status
        chat.bot_status = "left"
        self.events.publish("chat", chat_id=chat.id, change="bot_status", old=old, new="left")
        self._emit_my_chat_member(chat, self.bot_user(), old, "left")
        bot = self.bot_user()
        self.post_service_message(
            chat, {"left_chat_participant": bot, "left_chat_member": bot}, bot, deliver=False
        )

    def _set_private_blocked(self, chat: Chat, blocked: bool) -> None:
        """A user blocks or unblocks the bot in their private chat."""
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        user = chat.user or self.user(chat.id)
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self.events.publish("chat", chat_id=chat.id, change="blocked" if blocked else "unblocked")
        self._emit_my_chat_member(chat, user, old, new)

    def block_private(self, user_id: int, blocked: bool = True) -> Json:
        """A user blocks (or unblocks) the bot; sends then answer 403 "bot was blocked by the user"."""
        user = self.user(user_id)
        chat = self.chats.get(user["id"])
        if chat is None:
            self.create_chat(type="private", chat_id=user["id"])
            chat = self.chats[user["id"]]
        self._set_private_blocked(chat, blocked)
        return chat.describe()

    def add_member(
        self, chat_id: int, user_id: int, by_user_id: int | None = None, status: str = "member"
    ) -> Json:
        """A user joins a group (or is added); the bot sees the new_chat_members service message."""
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise SimError("members join groups and supergroups only")
        user = self.user(user_id)
        old = chat.members.get(user["id"], "left")
        chat.members[user["id"]] = status
        actor = self.user(by_user_id) if by_user_id is not None else user
        self.events.publish("member", chat_id=chat.id, user=user, old=old, new=status)
        self._emit_chat_member(chat, actor, user, old, status)
        return self.post_service_message(
            chat, {"new_chat_participant": user, "new_chat_member": user, "new_chat_members": [user]}, actor
        )

    def remove_member(
        self, chat_id: int, user_id: int, by_user_id: int | None = None, ban: bool = False
    ) -> Json:
        """A user leaves a group (or is removed); the bot sees the left_chat_member service message."""
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise SimError("members leave groups and supergroups only")
        user = self.user(user_id)
        old = chat.members.get(user["id"], "left")
        new = "kicked" if ban else "left"
        chat.members[user["id"]] = new
        actor = self.user(by_user_id) if by_user_id is not None else user
        self.events.publish("member", chat_id=chat.id, user=user, old=old, new=new)
        self._emit_chat_member(chat, actor, user, old, new)
        return self.post_service_message(
            chat, {"left_chat_participant": user, "left_chat_member": user}, actor
        )

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> Json:
        """Set a member's status silently (e.g. make someone an administrator for a rights check)."""
        chat = self.chat(chat_id)
        if status not in MEMBER_STATUSES:
            raise SimError(f"bad status: {status}")
        user = self.user(user_id)
        old = chat.members.get(user["id"], "left")
        chat.members[user["id"]] = status
        self._emit_chat_member(chat, GROUP_ANONYMOUS_BOT, user, old, status)
        return self.member_object(chat, user, status)

    def _emit_chat_member(self, chat: Chat, actor: Json, user: Json, old: str, new: str) -> None:
        """Send a chat_member update (delivered only when the bot asked for that type)."""
        if old == new:
            return
        self.emit_update(
            "chat_member",
            {
                "chat": chat.public,
                "from": actor,
                "date": now_ts(),
                "old_chat_member": self.member_object(chat, user, old),
                "new_chat_member": self.member_object(chat, user, new),
            },
        )

    def migrate_chat(self, chat_id: int, by_user_id: int | None = None) -> int:
        """Upgrade a group to a supergroup with a new -100… id; old-id sends then answer 400 + migrate_to."""
        chat = self.chat(chat_id)
        if chat.type != "group" or chat.migrated_to is not None:
            raise SimError("only a basic group that was not migrated yet can be migrated")
        new_id = self._new_chat_id("supergroup")
        new = Chat(
            id=new_id,
            type="supergroup",
            title=chat.title,
            members=dict(chat.members),
            bot_status=chat.bot_status,
            migrated_from=chat.id,
        )
        actor = self._actor(chat, by_user_id)
        self._add_chat(new)
        self.post_service_message(chat, {"migrate_to_chat_id": new_id}, actor)
        chat.migrated_to = new_id
        self.post_service_message(
            new, {"migrate_from_chat_id": chat.id}, GROUP_ANONYMOUS_BOT, extra={"sender_chat": new.public}
        )
        self.events.publish(
            "chat", chat_id=chat.id, change="migrated", new_chat_id=new_id, chat=new.describe()
        )
        return new_id

    # ----------------------------------------------------------------- updates

    def emit_update(self, kind: str, payload: Json) -> int | None:
        """Queue an update for the bot, unless it excluded that type with allowed_updates."""
        if kind not in self.allowed_updates:
            return None
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates[update_id] = {"update_id": update_id, kind: payload}
        self._update_order.append(update_id)
        self.updates_changed.fire()
        return update_id

    @property
    def updates_pending(self) -> int:
        """How many updates wait for the bot."""
        return len(self._updates)

    def set_allowed_updates(self, kinds: list[str] | None) -> None:
        """Remember allowed_updates ([] or None-after-set restores Telegram's default set)."""
        self.allowed_updates = frozenset(kinds) & UPDATE_TYPES if kinds else DEFAULT_ALLOWED_UPDATES

    def confirm_updates(self, offset: int) -> None:
        """Forget updates below `offset`; a negative offset keeps only the last -offset ones."""
        order, updates = self._update_order, self._updates
        if offset > 0:
            while order and order[0] < offset:
                updates.pop(order.popleft(), None)
        elif offset < 0:
            self._compact()
            while len(order) > -offset:
                updates.pop(order.popleft(), None)

    def _compact(self) -> None:
        """Drop ids of already delivered updates from the order queue."""
        if len(self._update_order) != len(self._updates):
            self._update_order = deque(uid for uid in self._update_order if uid in self._updates)

    def pending_updates(self, limit: int, skip: set[int] | None = None) -> list[Json]:
        """Return up to `limit` pending updates in order, dropping types the bot no longer accepts."""
        order, updates = self._update_order, self._updates
        while order and order[0] not in updates:
            order.popleft()
        found: list[Json] = []
        dropped: list[int] = []
        for update_id in order:
            update = updates.get(update_id)
            if update is None or (skip and update_id in skip):
                continue
            kind = next(k for k in update if k != "update_id")
            if kind not in self.allowed_updates:
                dropped.append(update_id)
                continue
            found.append(update)
            if len(found) >= limit:
                break
        for update_id in dropped:
            del updates[update_id]
        return found

    def drop_update(self, update_id: int) -> None:
        """Forget one update (delivered through the webhook)."""
        self._updates.pop(update_id, None)

    def drop_pending_updates(self) -> None:
        """Forget every pending update."""
        self._updates.clear()
        self._update_order.clear()

    # ----------------------------------------------------------------- files

    def store_file(self, data: bytes, folder: str, extension: str, mime_type: str) -> FileRecord:
        """Keep bytes under a new file_id and file_path."""
        number = next(self._ids)
        file_id = f"SIM{folder[:3].upper()}{number:08d}{(number * 2654435761) % 10**10:010d}"
        record = FileRecord(
            file_id=file_id,
            file_unique_id=f"U{number:07d}",
            data=data,
            file_path=f"{folder}/file_{number}.{extension}",
            mime_type=mime_type,
        )
        self.files[file_id] = record
        self._file_paths[record.file_path] = record
        return record

    def file_by_path(self, path: str) -> FileRecord | None:
        """Find a file by its file_path (for downloads)."""
        return self._file_paths.get(path)

    def photo_sizes(self, data: bytes) -> list[Json]:
        """Store a picture and return its PhotoSize list (a thumbnail and the full size)."""
        width, height = image_size(data) or (800, 600)
        sizes: list[Json] = []
        largest = max(width, height, 1)
        for side in (90, 320):
            if largest > side:
                scale = side / largest
                sizes.append(
                    self._photo_size(data, max(1, round(width * scale)), max(1, round(height * scale)))
                )
        sizes.append(self._photo_size(data, width, height))
        return sizes

    def _photo_size(self, data: bytes, width: int, height: int) -> Json:
        """Store one size of a picture."""
        record = self.store_file(data, "photos", "jpg", "image/jpeg")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": len(data),
            "width": width,
            "height": height,
        }

    def document_object(self, data: bytes, file_name: str, mime_type: str | None) -> Json:
        """Store a document and return its Document object."""
        # clients label every upload application/octet-stream; Telegram goes by the file name then
        mime = guess_mime(file_name) if mime_type in (None, "", "application/octet-stream") else mime_type
        record = self.store_file(data, "documents", extension_for(file_name, mime, "bin"), mime)
        return {
            "file_name": file_name,
            "mime_type": mime,
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": len(data),
        }

    # ----------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        code: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` ("*" for any) with error `code`."""
        if count <= 0:
            self.fail_rules.pop(method.lower(), None)
            return
        self.fail_rules[method.lower()] = FailRule(int(code), int(count), retry_after, description)
        self.events.publish("fault", method=method, code=code, count=count)

    def take_failure(self, method: str) -> ApiError | None:
        """Consume one forced failure for this call, if one is armed."""
        for key in (method.lower(), "*"):
            rule = self.fail_rules.get(key)
            if rule is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    del self.fail_rules[key]
                return rule.error()
        return None

    def set_delay(self, method: str, seconds: float, count: int | None = None, after: bool = False) -> None:
        """Delay answers to `method` ("*" for any) by `seconds` (after the effect with ``after``); 0 removes it."""
        if seconds <= 0:
            self.delay_rules.pop(method.lower(), None)
            return
        self.delay_rules[method.lower()] = DelayRule(float(seconds), count, bool(after))

    def take_delay(self, method: str) -> DelayRule | None:
        """Consume one delay for this call and return it (None when the call is not delayed)."""
        for key in (method.lower(), "*"):
            rule = self.delay_rules.get(key)
            if rule is not None:
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        del self.delay_rules[key]
                return rule
        return None

    def clear_faults(self) -> None:
        """Remove every forced failure and delay."""
        self.fail_rules.clear()
        self.delay_rules.clear()

    # ----------------------------------------------------------------- people, snapshots

    def people(self) -> list[Json]:
        """Every user with the page's label and whether they have a private chat with the bot."""
        found = []
        for user_id, user in self.users.items():
            private = self.chats.get(user_id)
            found.append(
                {
                    "user": user,
                    "label": self.user_labels.get(user_id),
                    "private_chat": private is not None and private.type == "private" and private.started,
                }
            )
        return found

    def continue_updates_after(self, update_id: int) -> None:
        """Number new updates above `update_id` (a bot that kept its offset across a restart)."""
        self._next_update_id = max(self._next_update_id, int(update_id) + 1)

    def snapshot(self) -> Json:
        """Return users, chats with their messages, files and counters as JSON (for a demo kept across runs)."""
        return {
            "version": 1,
            "users": list(self.users.values()),
            "labels": {str(k): v for k, v in self.user_labels.items()},
            "chats": [_chat_state(chat) for chat in self.chats.values()],
            "files": [
                {**record.as_file(), "file_id": record.file_id, "mime_type": record.mime_type,
                 "data": base64.b64encode(record.data).decode("ascii")}
                for record in self.files.values()
            ],
            "commands": [
                {"scope": scope, "language_code": lang, "commands": cmds}
                for (scope, lang), cmds in self.commands.items()
            ],
            "next_update_id": self._next_update_id,
            "next_id": next(self._ids),
        }

    def restore(self, state: Json) -> None:
        """Replace the state with a snapshot taken by `snapshot()` (pending updates are not kept)."""
        self._reset_state()
        for user in state.get("users", []):
            self.users[int(user["id"])] = user
        self.user_labels = {int(k): v for k, v in state.get("labels", {}).items()}
        for raw in state.get("chats", []):
            chat = Chat(
                id=int(raw["id"]),
                type=raw["type"],
                title=raw.get("title"),
                username=raw.get("username"),
                user=self.users.get(int(raw["id"])) if raw["type"] == "private" else None,
                members={int(k): v for k, v in raw.get("members", {}).items()},
                bot_status=raw.get("bot_status", "member"),
                messages={int(m["message_id"]): m for m in raw.get("messages", [])},
                next_message_id=int(raw.get("next_message_id", 1)),
                migrated_to=raw.get("migrated_to"),
                migrated_from=raw.get("migrated_from"),
                started=bool(raw.get("started")),
                blocked=bool(raw.get("blocked")),
                pinned_message_id=raw.get("pinned_message_id"),
            )
            self._add_chat(chat)
        for raw in state.get("files", []):
            record = FileRecord(
                raw["file_id"], raw["file_unique_id"], base64.b64decode(raw["data"]), raw["file_path"], raw["mime_type"]
            )
            self.files[record.file_id] = record
            self._file_paths[record.file_path] = record
        for entry in state.get("commands", []):
            self.commands[(entry["scope"], entry["language_code"])] = entry["commands"]
        self._next_update_id = max(self._next_update_id, int(state.get("next_update_id", 1)))
        self._ids = itertools.count(int(state.get("next_id", 1)))
        self.events.publish("reset")

    # ----------------------------------------------------------------- commands, stats

    @staticmethod
    def command_key(scope: Json | None, language_code: str | None) -> tuple[str, str]:
        """Key bot commands by scope and language, as Telegram stores them."""
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True, separators=(",", ":")), language_code or ""

    def stats_snapshot(self) -> Json:
        """Return delivery figures plus queue sizes."""
        return {
            **self.stats.snapshot(),
            "updates_pending": self.updates_pending,
            "callback_queries": len(self.callbacks),
            "unanswered_callback_queries": sum(1 for r in self.callbacks.values() if r.answer is None),
            "last_event_seq": self.events.last_seq,
            "limits": self.config.limits.as_dict(),
        }

    def iter_updates(self) -> Iterator[Json]:
        """Yield the pending updates (for inspection)."""
        for update_id in self._update_order:
            update = self._updates.get(update_id)
            if update is not None:
                yield update


def _chat_state(chat: Chat) -> Json:
    """Return what a snapshot keeps of a chat."""
    return {
        "id": chat.id,
        "type": chat.type,
        "title": chat.title,
        "username": chat.username,
        "members": {str(k): v for k, v in chat.members.items()},
        "bot_status": chat.bot_status,
        "messages": list(chat.messages.values()),
        "next_message_id": chat.next_message_id,
        "migrated_to": chat.migrated_to,
        "migrated_from": chat.migrated_from,
        "started": chat.started,
        "blocked": chat.blocked,
        "pinned_message_id": chat.pinned_message_id,
    }


def _token_bot_id(token: str) -> int | None:
    """Read the bot id from a token "123456:ABC…"."""
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else None
