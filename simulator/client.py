"""Async client for the simulator's test side (/_sim/): act as residents, inject faults, wait for the bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

Json = dict[str, Any]
MessagePredicate = Callable[[Json], bool]


class SimulatorError(Exception):
    """The simulator refused a test-side request."""

    def __init__(self, description: str, status: int) -> None:
        super().__init__(f"{status}: {description}")
        self.description = description
        self.status = status


class SimulatorClient:
    """Drive a running simulator over HTTP: `async with SimulatorClient(url) as sim: ...`."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> SimulatorClient:
        """Open the HTTP session."""
        self._ensure_session()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the HTTP session."""
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        """Return the session, opening one on first use."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
            self._own_session = True
        return self._session

    async def _call(self, http_method: str, name: str, http_timeout: float | None = 30.0, **args: Any) -> Any:
        """Call /_sim/<name> and return its result, raising SimulatorError on refusal."""
        session = self._ensure_session()
        url = f"{self.base_url}/_sim/{name}"
        payload = {key: value for key, value in args.items() if value is not None}
        client_timeout = aiohttp.ClientTimeout(total=http_timeout)
        if http_method == "GET":
            query = {k: json.dumps(v) if isinstance(v, bool) else str(v) for k, v in payload.items()}
            request = session.get(url, params=query, timeout=client_timeout)
        else:
            request = session.post(url, json=payload, timeout=client_timeout)
        async with request as response:
            body = await response.json(content_type=None)
        if not body.get("ok"):
            raise SimulatorError(str(body.get("description")), response.status)
        return body.get("result")

    # ----------------------------------------------------------------- setup

    async def info(self) -> Json:
        """Describe the simulator: bot (getMe), token rule, limits, implemented methods, last event seq."""
        return await self._call("GET", "info")

    async def set_bot(self, **settings: Any) -> Json:
        """Change bot_username, bot_first_name, can_read_all_group_messages (privacy), bot_id …; returns getMe."""
        return await self._call("POST", "bot", **settings)

    async def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "zh-hans",
        label: str | None = None,
    ) -> Json:
        """Create a user (`label`, e.g. "3栋 楼栋长", is shown by the chat page only); returns the User."""
        return await self._call(
            "POST",
            "users",
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            label=label,
        )

    async def people(self) -> list[Json]:
        """Every user with their page label and whether they opened a private chat with the bot."""
        return await self._call("GET", "people")

    async def create_chat(
        self,
        title: str | None = None,
        type: str = "group",
        chat_id: int | None = None,
        username: str | None = None,
        bot_status: str = "member",
        creator_id: int | None = None,
        members: list[int] | None = None,
    ) -> Json:
        """Create a group/supergroup (bot already in it, as "member" or "administrator") or private chat."""
        return await self._call(
            "POST",
            "chats",
            title=title,
            type=type,
            chat_id=chat_id,
            username=username,
            bot_status=bot_status,
            creator_id=creator_id,
            members=members,
        )

    async def chat(self, chat_id: int) -> Json:
        """Return a chat with its simulator state (bot_status, members, migrated_to_chat_id …)."""
        return await self._call("GET", "chat", chat_id=chat_id)

    async def chats(self) -> list[Json]:
        """Return every chat."""
        return await self._call("GET", "chats")

    # ----------------------------------------------------------------- users act

    async def send_message(
        self,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        reply_to_message_id: int | None = None,
        photo: bool = False,
        caption: str | None = None,
        sticker: bool = False,
        document: str | Json | None = None,
        location: tuple[float, float] | None = None,
        forwarded_from: str | None = None,
    ) -> Json:
        """A user writes (text, photo+caption, sticker, document or a location pin); returns the Message.

        "/start" opens a private chat; ``forwarded_from`` marks the message as forwarded from that person.
        """
        return await self._call(
            "POST",
            "send_message",
            chat_id=chat_id,
            user_id=user_id,
            text=text,
            reply_to_message_id=reply_to_message_id,
            photo=photo or None,
            caption=caption,
            sticker=sticker or None,
            document=document,
            location=list(location) if location is not None else None,
            forwarded_from=forwarded_from,
        )

    async def edit_message(self, chat_id: int, message_id: int, user_id: int, new_text: str) -> Json:
        """A user edits their message; the bot gets edited_message. Returns the edited Message."""
        return await self._call(
            "POST", "edit_message", chat_id=chat_id, message_id=message_id, user_id=user_id, new_text=new_text
        )

    async def press_button(
        self, chat_id: int, message_id: int, user_id: int, callback_data: str, forge: bool = False
    ) -> str:
        """A user presses an inline button (forge=True: data not on the keyboard); returns the query id."""
        result = await self._call(
            "POST",
            "press_button",
            chat_id=chat_id,
            message_id=message_id,
            user_id=user_id,
            callback_data=callback_data,
            forge=forge,
        )
        return str(result["callback_query_id"])

    async def wait_callback_answer(self, callback_query_id: str, timeout: float = 5.0) -> Json:  # noqa: ASYNC109
        """Wait for the bot's answerCallbackQuery; returns {text, show_alert, url, cache_time, answered_at}."""
        result = await self._long_poll("callback_answer", timeout, id=callback_query_id)
        if not result["answered"]:
            raise TimeoutError(f"the bot did not answer callback query {callback_query_id} within {timeout}s")
        return result["answer"]

    async def add_member(
        self, chat_id: int, user_id: int, by_user_id: int | None = None, status: str = "member"
    ) -> Json:
        """A user joins (or is added to) a group; returns the new_chat_members service message."""
        return await self._call(
            "POST", "add_member", chat_id=chat_id, user_id=user_id, by_user_id=by_user_id, status=status
        )

    async def remove_member(
        self, chat_id: int, user_id: int, by_user_id: int | None = None, ban: bool = False
    ) -> Json:
        """A user leaves (or is removed from) a group; returns the left_chat_member service message."""
        return await self._call(
            "POST", "remove_member", chat_id=chat_id, user_id=user_id, by_user_id=by_user_id, ban=ban
        )

    async def set_member_status(self, chat_id: int, user_id: int, status: str) -> Json:
        """Silently set a member's status (creator, administrator, member, restricted, left, kicked)."""
        return await self._call("POST", "set_member_status", chat_id=chat_id, user_id=user_id, status=status)

    async def kick_bot(self, chat_id: int, status: str = "kicked", by_user_id: int | None = None) -> Json:
        """Remove the bot from a group ("kicked" or "left"); the bot gets my_chat_member, sends get 403."""
        return await self._call("POST", "kick_bot", chat_id=chat_id, status=status, by_user_id=by_user_id)

    async def add_bot(self, chat_id: int, status: str = "member", by_user_id: int | None = None) -> Json:
        """Add the bot back (or promote it with status="administrator"); the bot gets my_chat_member."""
        return await self._call("POST", "add_bot", chat_id=chat_id, status=status, by_user_id=by_user_id)

    async def migrate_chat(self, chat_id: int, by_user_id: int | None = None) -> int:
        """Upgrade a group to a supergroup; returns the new -100… id."""
        result = await self._call("POST", "migrate_chat", chat_id=chat_id, by_user_id=by_user_id)
        return int(result["new_chat_id"])

    async def block_private(self, user_id: int, blocked: bool = True) -> Json:
        """A user blocks (or unblocks) the bot in private; sends then answer 403."""
        return await self._call("POST", "block_private", user_id=user_id, blocked=blocked)

    # ----------------------------------------------------------------- faults and limits

    async def fail_next(
        self,
        method: str,
        code: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` ("*" = any) with error `code` (429 with retry_after)."""
        await self._call(
            "POST",
            "fail_next",
            method=method,
            code=code,
            count=count,
            retry_after=retry_after,
            description=description,
        )

    async def set_delay(self, method: str, seconds: float, count: int | None = None, after: bool = False) -> None:
        """Answer `method` ("*" = any) `seconds` late (for the next `count` calls, or until set to 0).

        With ``after`` the call takes effect at once and only the answer is late (a read timeout).
        """
        await self._call("POST", "delay", method=method, seconds=seconds, count=count, after=after or None)

    async def clear_faults(self) -> None:
        """Remove every forced failure and delay."""
        await self._call("POST", "clear_faults")

    async def set_limits(
        self,
        enabled: bool | None = None,
        global_per_s: int | None = None,
        per_chat_per_s: float | None = None,
        per_chat_burst: int | None = None,
        per_group_per_min: int | None = None,
        count_edits: bool | None = None,
    ) -> Json:
        """Change the flood limits (enabled=False switches them off); returns the limits now in force."""
        return await self._call(
            "POST",
            "limits",
            enabled=enabled,
            global_per_s=global_per_s,
            per_chat_per_s=per_chat_per_s,
            per_chat_burst=per_chat_burst,
            per_group_per_min=per_group_per_min,
            count_edits=count_edits,
        )

    # ----------------------------------------------------------------- reading and waiting

    async def messages(self, chat_id: int) -> list[Json]:
        """All messages in a chat in order (users' and the bot's), with current text and markup."""
        return await self._call("GET", "messages", chat_id=chat_id)

    async def bot_messages(self, chat_id: int) -> list[Json]:
        """The bot's messages in a chat in order, with current text and markup."""
        return await self._call("GET", "messages", chat_id=chat_id, from_bot=True)

    async def message(self, chat_id: int, message_id: int) -> Json:
        """One message in its current state."""
        return await self._call("GET", "message", chat_id=chat_id, message_id=message_id)

    async def commands(self) -> list[Json]:
        """The bot's commands per scope and language."""
        return await self._call("GET", "commands")

    async def stats(self) -> Json:
        """Delivery figures: sent, per_chat, per_second, "429", updates_pending, peak rates, limits."""
        return await self._call("GET", "stats")

    async def reset(self) -> None:
        """Forget every user, chat, message, update, fault and figure (the bot and limits stay)."""
        await self._call("POST", "reset")

    async def last_event_seq(self) -> int:
        """The seq of the newest event (pass as `since` to wait only for what happens next)."""
        return int((await self.info())["last_event_seq"])

    async def _long_poll(self, name: str, seconds: float, **args: Any) -> Json:
        """Call a long-poll endpoint that waits up to `seconds` server-side (the HTTP timeout is longer)."""
        return await self._call("GET", name, http_timeout=seconds + 10.0, **args, timeout=seconds)

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: MessagePredicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the wait happens server-side (long poll)
        after_message_id: int | None = None,
    ) -> Json:
        """Wait for a bot message in the chat (above after_message_id; None = any, existing ones too) matching."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        after = after_message_id or 0
        while True:
            remaining = max(deadline - loop.time(), 0.0)
            result = await self._long_poll("wait", remaining, chat_id=chat_id, after_message_id=after)
            for message in result["messages"]:
                if predicate is None or predicate(message):
                    return message
                after = max(after, int(message["message_id"]))
            if remaining <= 0 or (result["timed_out"] and loop.time() >= deadline):
                raise TimeoutError(await self._timeout_report(chat_id, timeout, after_message_id))

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int | None = None,
        predicate: MessagePredicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the wait happens server-side (long poll)
        since: int = 0,
    ) -> Json:
        """Wait for the bot to edit a message in the chat (any message, or message_id); returns it as edited.

        Edits already made count (since=0 means every edit still kept); pass since=await last_event_seq()
        to wait only for new ones.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = max(deadline - loop.time(), 0.0)
            result = await self._long_poll(
                "wait_event",
                remaining,
                since=since,
                types="edit",
                chat_id=chat_id,
                message_id=message_id,
                from_bot=True,
            )
            for event in result["events"]:
                since = max(since, int(event["seq"]))
                if predicate is None or predicate(event["message"]):
                    return event["message"]
            since = max(since, int(result["last_seq"]))
            if remaining <= 0 or loop.time() >= deadline:
                raise TimeoutError(
                    f"no matching edit of message {message_id} in chat {chat_id} within {timeout}s"
                )

    async def wait_event(
        self,
        since: int = 0,
        types: list[str] | None = None,
        chat_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the wait happens server-side (long poll)
    ) -> list[Json]:
        """Wait for events after `since` (types: message, edit, delete, callback_query, callback_answer,
        rate_limited, api_error, chat, member, chat_action, pin, commands, webhook, webhook_error, fault, reset)."""
        result = await self._long_poll(
            "wait_event", timeout, since=since, types=",".join(types) if types else None, chat_id=chat_id
        )
        return list(result["events"])

    async def events(self, since: int | None = None, chat_id: int | None = None) -> AsyncIterator[Json]:
        """Follow the Server-Sent Events stream at /_sim/events, yielding each event dict."""
        session = self._ensure_session()
        params = {
            key: str(value) for key, value in (("since", since), ("chat_id", chat_id)) if value is not None
        }
        async with session.get(
            f"{self.base_url}/_sim/events", params=params, timeout=aiohttp.ClientTimeout(total=None)
        ) as response:
            async for raw_line in response.content:
                line = raw_line.decode("utf-8").rstrip("\n")
                if line.startswith("data: "):
                    yield json.loads(line[len("data: ") :])

    async def _timeout_report(self, chat_id: int, seconds: float, after_message_id: int | None) -> str:
        """Explain a wait that timed out, with the chat's last messages."""
        try:
            recent = (await self.messages(chat_id))[-5:]
        except (SimulatorError, aiohttp.ClientError):
            recent = []
        lines = [
            f"  #{m['message_id']} {'BOT' if m['from'].get('is_bot') else m['from'].get('first_name')}: "
            f"{(m.get('text') or m.get('caption') or '<media/service>')[:80]!r}"
            for m in recent
        ]
        return (
            f"no matching bot message in chat {chat_id} after message {after_message_id} within {seconds}s; "
            "last messages:\n" + "\n".join(lines)
        )
