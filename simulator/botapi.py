"""The Bot API methods: validate parameters like Telegram, act on the world, answer Bot API objects."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Callable
from typing import Any

from simulator.errors import ApiError, api_error, bad_request, too_many_requests
from simulator.formatting import CAPTION_LIMIT, TEXT_LIMIT, format_message_text
from simulator.media import looks_like_image, solid_png
from simulator.params import Params, Upload
from simulator.world import PRESENT_STATUSES, Chat, Json, Webhook, World, now_ts, strip_reply

Handler = Callable[[Params], Any]

_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


class BotApi:
    """Answers Bot API calls against a `World`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.on_webhook_change: Callable[[], None] = lambda: None
        self._poll_ticket: _PollTicket | None = None
        self._methods: dict[str, tuple[str, Handler]] = {}
        for name, handler in {
            "getMe": self.get_me,
            "logOut": self.log_out,
            "close": self.log_out,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getFile": self.get_file,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
            "sendChatAction": self.send_chat_action,
            "leaveChat": self.leave_chat,
            "pinChatMessage": self.pin_chat_message,
            "unpinChatMessage": self.unpin_chat_message,
            "unpinAllChatMessages": self.unpin_all_chat_messages,
        }.items():
            self._methods[name.lower()] = (name, handler)

    @property
    def method_names(self) -> list[str]:
        """The Bot API methods the simulator implements."""
        return sorted(name for name, _ in self._methods.values())

    def knows(self, method: str) -> bool:
        """True for an implemented method name (any case)."""
        return method.lower() in self._methods

    async def call(self, method: str, params: Params) -> Any:
        """Run one Bot API method (name case-insensitive, as Telegram's) and return its result."""
        entry = self._methods.get(method.lower())
        if entry is None:
            raise ApiError(404, "Not Found")
        name, handler = entry
        world = self.world
        world.stats.calls[name] += 1
        delay = world.take_delay(name)
        if delay is not None and not delay.after:
            await asyncio.sleep(delay.seconds)
        failure = world.take_failure(name)
        if failure is not None:
            failure.context.setdefault("scope", "forced")
            raise failure
        result = handler(params)
        if inspect.isawaitable(result):
            result = await result
        if delay is not None and delay.after:  # done, but the answer comes late (a client read timeout)
            await asyncio.shield(asyncio.sleep(delay.seconds))
        return result

    def record_error(self, method: str, error: ApiError) -> None:
        """Count an error answer and put it in the event stream (429s separately, for the limit checks)."""
        world = self.world
        world.stats.errors[error.code] += 1
        chat_id = error.context.get("chat_id")
        if error.code == 429:
            scope = str(error.context.get("scope", "forced"))
            world.stats.record_refusal(chat_id, scope)
            retry_after = (error.parameters or {}).get("retry_after")
            world.events.publish(
                "rate_limited", chat_id=chat_id, method=method, scope=scope, retry_after=retry_after
            )
        else:
            world.events.publish(
                "api_error",
                chat_id=chat_id,
                method=method,
                error_code=error.code,
                description=error.description,
            )

    # ----------------------------------------------------------------- shared checks

    def _chat(self, params: Params) -> Chat:
        """Resolve chat_id the way every sending method does."""
        return self.world.chat_for_bot(params.chat_id())

    def _flood(self, chat: Chat) -> None:
        """Refuse with 429 when the message would break Telegram's limits."""
        refusal = self.world.flood.check(chat.id, chat.is_group)
        if refusal is not None:
            error = too_many_requests(refusal.retry_after)
            error.context.update(chat_id=chat.id, scope=refusal.scope)
            raise error

    def _entities(self, params: Params, name: str) -> list[Json] | None:
        """Read an explicit entities array."""
        entities = params.obj(name, error=f"can't parse {name} JSON object")
        if entities is None:
            return None
        if not isinstance(entities, list) or not all(
            isinstance(e, dict) and {"type", "offset", "length"} <= e.keys() for e in entities
        ):
            raise bad_request(f"can't parse {name} JSON object")
        return entities

    def _text(self, params: Params) -> tuple[str, list[Json]]:
        """Read text + parse_mode/entities of a message."""
        return format_message_text(
            params.text("text") or "",
            params.text("parse_mode"),
            self._entities(params, "entities"),
            limit=TEXT_LIMIT,
            empty_error="message text is empty",
            long_error="message is too long",
        )

    def _caption(self, params: Params) -> tuple[str, list[Json]]:
        """Read caption + parse_mode/caption_entities of a media message."""
        return format_message_text(
            params.text("caption") or "",
            params.text("parse_mode"),
            self._entities(params, "caption_entities"),
            limit=CAPTION_LIMIT,
            empty_error=None,
            long_error="message caption is too long",
        )

    def _reply_target(self, chat: Chat, params: Params) -> Json | None:
        """Find the message being replied to (reply_parameters or legacy reply_to_message_id)."""
        reply = params.obj("reply_parameters", error="can't parse reply parameters JSON object")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply", False))
        else:
            message_id = params.integer("reply_to_message_id")
            allow = params.flag("allow_sending_without_reply")
        if message_id is None:
            return None
        target = chat.messages.get(int(message_id))
        if target is None and not allow:
            raise bad_request("message to be replied not found")
        return target

    def _markup(
        self, params: Params, inline_only: bool = False
    ) -> tuple[Json | None, Callable[[Chat], None]]:
        """Validate reply_markup; return the inline markup for the message and the effect on the chat."""
        raw = params.obj("reply_markup", error="can't parse reply keyboard markup JSON object")
        unchanged: Callable[[Chat], None] = lambda chat: None  # noqa: E731
        if raw is None:
            return None, unchanged
        if not isinstance(raw, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in raw:
            return _inline_keyboard(raw["inline_keyboard"]), unchanged
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in raw:
            if not isinstance(raw["keyboard"], list):
                raise bad_request("can't parse reply keyboard markup JSON object")

            def show(chat: Chat) -> None:
                chat.reply_keyboard = raw

            return None, show
        if raw.get("remove_keyboard"):

            def remove(chat: Chat) -> None:
                chat.reply_keyboard = None

            return None, remove
        if raw.get("force_reply"):
            return None, unchanged
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _bot_message(self, params: Params, not_found: str) -> tuple[Chat, Json]:
        """Find the bot's own message an edit addresses."""
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request(not_found)
        if message["from"]["id"] != self.world.bot_id:
            raise bad_request("message can't be edited")
        return chat, message

    def _store_edit(self, chat: Chat, old: Json, new: Json, keys: tuple[str, ...]) -> Json:
        """Refuse an edit that changes nothing, else store it with edit_date."""
        if all(old.get(key) == new.get(key) for key in keys):
            raise bad_request(_NOT_MODIFIED)
        counted = self.world.config.limits.count_edits
        if counted:
            self._flood(chat)
        new["edit_date"] = now_ts()
        return self.world.replace_message(chat, new, by_bot=True, counted=counted)

    def _file_data(self, source: Upload | str, kind: str) -> tuple[bytes, str, str | None]:
        """Return (bytes, file name, MIME type) of an uploaded file, a known file_id or a URL."""
        if isinstance(source, Upload):
            if len(source.data) > self.world.config.max_upload_bytes:
                raise api_error(413)
            return source.data, source.filename, source.content_type
        record = self.world.files.get(source)
        if record is not None:
            return record.data, record.file_path.rsplit("/", 1)[-1], record.mime_type
        if source.startswith(("http://", "https://")):
            name = source.rstrip("/").rsplit("/", 1)[-1] or kind
            data = solid_png(320, 240) if kind == "photo" else f"downloaded from {source}\n".encode()
            return data, name, None
        raise bad_request("wrong file identifier/HTTP URL specified")

    # ----------------------------------------------------------------- methods: bot and updates

    def get_me(self, params: Params) -> Json:
        """getMe."""
        return self.world.get_me()

    def log_out(self, params: Params) -> bool:
        """logOut / close: nothing to do locally."""
        return True

    async def get_updates(self, params: Params) -> list[Json]:
        """getUpdates: confirm below offset, answer at once when updates wait, else long-poll."""
        world = self.world
        if world.webhook is not None:
            raise api_error(
                409,
                "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset", 0) or 0
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = min(max(params.number("timeout", 0.0) or 0.0, 0.0), 50.0)
        allowed = params.obj("allowed_updates", error="can't parse allowed updates JSON object")
        if allowed is not None:
            world.set_allowed_updates(list(allowed))
        ticket = _PollTicket()
        if self._poll_ticket is not None:
            self._poll_ticket.terminated = True
        self._poll_ticket = ticket
        world.updates_changed.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            world.confirm_updates(offset)
            while True:
                if ticket.terminated:
                    raise api_error(
                        409,
                        "terminated by other getUpdates request; make sure that only one bot instance is running",
                    )
                found = world.pending_updates(limit)
                remaining = deadline - loop.time()
                if found or remaining <= 0 or world.closing or world.webhook is not None:
                    return found
                await world.updates_changed.wait(remaining)
        finally:
            if self._poll_ticket is ticket:
                self._poll_ticket = None

    def set_webhook(self, params: Params) -> bool:
        """setWebhook: remember the URL (an empty URL removes it) and start delivering to it."""
        world = self.world
        url = (params.text("url") or "").strip()
        if not url:
            return self.delete_webhook(params)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token")
        if secret and not _SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.integer("max_connections", 40) or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = params.obj("allowed_updates", error="can't parse allowed updates JSON object")
        if allowed is not None:
            world.set_allowed_updates(list(allowed))
        if params.flag("drop_pending_updates"):
            world.drop_pending_updates()
        world.webhook = Webhook(
            url=url,
            secret_token=secret or None,
            max_connections=max_connections,
            allowed_updates=list(allowed) if allowed is not None else None,
        )
        world.events.publish("webhook", url=url)
        world.updates_changed.fire()
        self.on_webhook_change()
        return True

    def delete_webhook(self, params: Params) -> bool:
        """deleteWebhook."""
        world = self.world
        if params.flag("drop_pending_updates"):
            world.drop_pending_updates()
        if world.webhook is not None:
            world.webhook = None
            world.events.publish("webhook", url="")
            self.on_webhook_change()
        return True

    def get_webhook_info(self, params: Params) -> Json:
        """getWebhookInfo."""
        webhook = self.world.webhook
        info: Json = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.world.updates_pending,
        }
        if webhook is not None:
            info["max_connections"] = webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if webhook.allowed_updates is not None:
                info["allowed_updates"] = webhook.allowed_updates
            if webhook.last_error_date is not None:
                info["last_error_date"] = webhook.last_error_date
                info["last_error_message"] = webhook.last_error_message
        return info

    # ----------------------------------------------------------------- methods: messages

    def send_message(self, params: Params) -> Json:
        """sendMessage."""
        chat = self._chat(params)
        text, entities = self._text(params)
        reply_to = self._reply_target(chat, params)
        markup, effect = self._markup(params)
        self._flood(chat)
        body: Json = {"text": text}
        if entities:
            body["entities"] = entities
        if markup:
            body["reply_markup"] = markup
        effect(chat)
        return self.world.post_bot_message(chat, body, reply_to, client_markup=_client_markup(params))

    def send_photo(self, params: Params) -> Json:
        """sendPhoto: store the picture, answer with its sizes."""
        chat = self._chat(params)
        source = params.input_file("photo")
        if source is None:
            raise bad_request("there is no photo in the request")
        data, _, _ = self._file_data(source, "photo")
        if not looks_like_image(data):
            raise bad_request("IMAGE_PROCESS_FAILED")
        return self._send_media(chat, params, "photo", lambda: self.world.photo_sizes(data))

    def send_document(self, params: Params) -> Json:
        """sendDocument: store the bytes, answer with the Document object."""
        chat = self._chat(params)
        source = params.input_file("document")
        if source is None:
            raise bad_request("there is no document in the request")
        data, name, mime = self._file_data(source, "document")
        record = self.world.files.get(source) if isinstance(source, str) else None

        def build() -> Json:
            if record is not None:
                return {
                    "file_name": name,
                    "mime_type": record.mime_type,
                    "file_id": record.file_id,
                    "file_unique_id": record.file_unique_id,
                    "file_size": len(record.data),
                }
            return self.world.document_object(data, name, mime)

        return self._send_media(chat, params, "document", build)

    def _send_media(self, chat: Chat, params: Params, field: str, build: Callable[[], Any]) -> Json:
        """Finish a media send: caption, reply, markup, limits, then store."""
        caption, entities = self._caption(params)
        reply_to = self._reply_target(chat, params)
        markup, effect = self._markup(params)
        self._flood(chat)
        body: Json = {field: build()}
        if caption:
            body["caption"] = caption
        if entities:
            body["caption_entities"] = entities
        if markup:
            body["reply_markup"] = markup
        effect(chat)
        return self.world.post_bot_message(chat, body, reply_to, client_markup=_client_markup(params))

    def edit_message_text(self, params: Params) -> Json:
        """editMessageText (leaving out reply_markup removes the keyboard, as in Telegram)."""
        chat, old = self._bot_message(params, "message to edit not found")
        if "text" not in old:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._text(params)
        markup, _ = self._markup(params, inline_only=True)
        new = {k: v for k, v in old.items() if k not in ("text", "entities", "reply_markup", "edit_date")}
        new["text"] = text
        if entities:
            new["entities"] = entities
        if markup:
            new["reply_markup"] = markup
        return self._store_edit(chat, old, new, ("text", "entities", "reply_markup"))

    def edit_message_caption(self, params: Params) -> Json:
        """editMessageCaption."""
        chat, old = self._bot_message(params, "message to edit not found")
        if "text" in old:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(params)
        markup, _ = self._markup(params, inline_only=True)
        new = {
            k: v
            for k, v in old.items()
            if k not in ("caption", "caption_entities", "reply_markup", "edit_date")
        }
        if caption:
            new["caption"] = caption
        if entities:
            new["caption_entities"] = entities
        if markup:
            new["reply_markup"] = markup
        return self._store_edit(chat, old, new, ("caption", "caption_entities", "reply_markup"))

    def edit_message_reply_markup(self, params: Params) -> Json:
        """editMessageReplyMarkup (no reply_markup removes the keyboard)."""
        chat, old = self._bot_message(params, "message to edit not found")
        markup, _ = self._markup(params, inline_only=True)
        new = {k: v for k, v in old.items() if k not in ("reply_markup", "edit_date")}
        if markup:
            new["reply_markup"] = markup
        return self._store_edit(chat, old, new, ("reply_markup",))

    def delete_message(self, params: Params) -> bool:
        """deleteMessage: own messages always, others' only as an administrator."""
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        self._delete(chat, message_id)
        return True

    def delete_messages(self, params: Params) -> bool:
        """deleteMessages: delete what can be deleted, skip the rest."""
        chat = self._chat(params)
        ids = params.obj("message_ids", error="can't parse message identifiers JSON object")
        if not isinstance(ids, list) or not ids:
            raise bad_request("message identifiers are not specified")
        for message_id in ids:
            try:
                self._delete(chat, int(message_id))
            except ApiError:
                continue
        return True

    def _delete(self, chat: Chat, message_id: int) -> None:
        """Delete one message, refusing what Telegram refuses."""
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request("message to delete not found")
        if message["from"]["id"] != self.world.bot_id and not self.world.bot_is_admin(chat):
            raise bad_request("message can't be deleted")
        self.world.delete_message(chat, message_id)

    def answer_callback_query(self, params: Params) -> bool:
        """answerCallbackQuery: record text/show_alert for the test side to read."""
        query_id = params.text("callback_query_id")
        if not query_id:
            raise bad_request(_QUERY_INVALID)
        answer: Json = {
            "text": params.text("text"),
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
            "cache_time": params.integer("cache_time", 0),
        }
        self.world.answer_callback(query_id, answer)
        return True

    # ----------------------------------------------------------------- methods: commands and files

    def set_my_commands(self, params: Params) -> bool:
        """setMyCommands."""
        commands = params.obj("commands", error="can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        cleaned: list[Json] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command", "")).lstrip("/")
            description = str(command.get("description", ""))
            if not _COMMAND_NAME.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self.world.command_key(params.obj("scope"), params.text("language_code"))
        if cleaned:
            self.world.commands[key] = cleaned
        else:
            self.world.commands.pop(key, None)
        self.world.events.publish("commands", scope=key[0], language_code=key[1], commands=cleaned)
        return True

    def get_my_commands(self, params: Params) -> list[Json]:
        """getMyCommands."""
        key = self.world.command_key(params.obj("scope"), params.text("language_code"))
        return self.world.commands.get(key, [])

    def delete_my_commands(self, params: Params) -> bool:
        """deleteMyCommands."""
        key = self.world.command_key(params.obj("scope"), params.text("language_code"))
        self.world.commands.pop(key, None)
        self.world.events.publish("commands", scope=key[0], language_code=key[1], commands=[])
        return True

    def get_file(self, params: Params) -> Json:
        """getFile."""
        record = self.world.files.get(params.text("file_id") or "")
        if record is None:
            raise bad_request("invalid file_id")
        if len(record.data) > self.world.config.max_download_bytes:
            raise bad_request("file is too big")
        return record.as_file()

    # ----------------------------------------------------------------- methods: chats

    def get_chat(self, params: Params) -> Json:
        """getChat: a ChatFullInfo."""
        chat = self._chat(params)
        info: Json = {
            **chat.public,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.is_group:
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        if chat.pinned_message_id is not None and chat.pinned_message_id in chat.messages:
            info["pinned_message"] = strip_reply(chat.messages[chat.pinned_message_id])
        return info

    def _status_of(self, chat: Chat, user_id: int) -> str:
        """A user's (or the bot's) status in a chat."""
        if user_id == self.world.bot_id:
            return "member" if chat.type == "private" else chat.bot_status
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        return chat.members.get(user_id, "left")

    def get_chat_member(self, params: Params) -> Json:
        """getChatMember (enough for a bot to check its own and users' rights)."""
        chat = self._chat(params)
        user_id = params.integer("user_id", error="user not found")
        if user_id is None:
            raise bad_request("user not found")
        if user_id == self.world.bot_id:
            user = self.world.bot_user()
        elif user_id in self.world.users:
            user = self.world.users[user_id]
        else:
            raise bad_request("user not found")
        return self.world.member_object(chat, user, self._status_of(chat, user_id))

    def get_chat_administrators(self, params: Params) -> list[Json]:
        """getChatAdministrators: the creator, the administrators and the bot when it is one."""
        chat = self._chat(params)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [
            self.world.member_object(chat, self.world.user(user_id), status)
            for user_id, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(self.world.member_object(chat, self.world.bot_user(), "administrator"))
        return admins

    def get_chat_member_count(self, params: Params) -> int:
        """getChatMemberCount."""
        chat = self._chat(params)
        if chat.type == "private":
            return 2
        present = sum(1 for status in chat.members.values() if status in PRESENT_STATUSES)
        return present + (1 if chat.bot_status in PRESENT_STATUSES else 0)

    def send_chat_action(self, params: Params) -> bool:
        """sendChatAction."""
        chat = self._chat(params)
        action = params.text("action") or ""
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.world.events.publish("chat_action", chat_id=chat.id, action=action)
        return True

    def leave_chat(self, params: Params) -> bool:
        """leaveChat."""
        chat = self._chat(params)
        self.world.bot_leaves(chat)
        return True

    def pin_chat_message(self, params: Params) -> bool:
        """pinChatMessage (in groups only as an administrator, as Telegram requires)."""
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        if not self.world.bot_is_admin(chat):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request("message to pin not found")
        chat.pinned_message_id = message_id
        self.world.post_service_message(
            chat, {"pinned_message": strip_reply(message)}, self.world.bot_user(), deliver=False
        )
        self.world.events.publish("pin", chat_id=chat.id, message_id=message_id)
        return True

    def unpin_chat_message(self, params: Params) -> bool:
        """unpinChatMessage."""
        chat = self._chat(params)
        if not self.world.bot_is_admin(chat):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        chat.pinned_message_id = None
        self.world.events.publish("pin", chat_id=chat.id, message_id=None)
        return True

    def unpin_all_chat_messages(self, params: Params) -> bool:
        """unpinAllChatMessages."""
        return self.unpin_chat_message(params)


class _PollTicket:
    """One getUpdates request in progress; a newer one terminates it (409), as on Telegram."""

    __slots__ = ("terminated",)

    def __init__(self) -> None:
        self.terminated = False


def _client_markup(params: Params) -> Json | None:
    """The reply keyboard, its removal or force_reply a send asked for (Telegram keeps it out of the Message)."""
    raw = params.obj("reply_markup")
    return raw if isinstance(raw, dict) and "inline_keyboard" not in raw else None


def _inline_keyboard(rows: Any) -> Json | None:
    """Validate an inline keyboard as Telegram does; None when it has no buttons."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
    cleaned: list[list[Json]] = []
    count = 0
    for row in rows:
        buttons: list[Json] = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            actions = [key for key in _BUTTON_ACTIONS if key in button]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = str(button["url"])
                if not url.startswith(("http://", "https://", "tg://")):
                    raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            buttons.append(dict(button))
            count += 1
        if buttons:
            cleaned.append(buttons)
    if count > 100:
        raise bad_request("reply markup is too long")
    return {"inline_keyboard": cleaned} if cleaned else None
