"""The test side ("users") over HTTP under /_sim/: act as residents, inject faults, read and wait.

Every endpoint takes JSON (POST) or query parameters (GET) and answers {"ok": true, "result": ...} or
{"ok": false, "description": ...}. Waits are long polls on signals, never busy loops. /_sim/events is a
Server-Sent Events stream of every event (one JSON object per `data:` line, `id:` = seq) that a browser
page can follow with EventSource and resume with Last-Event-ID.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulator.errors import SimError
from simulator.world import Json, World

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_WAIT = 120.0


def _dumps(value: Any) -> str:
    """Serialise compactly, keeping Chinese readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def ok(result: Any) -> web.Response:
    """Answer a successful test-side call."""
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


class SimRoutes:
    """The /_sim/ endpoints over one World."""

    def __init__(self, world: World, method_names: list[str]) -> None:
        self.world = world
        self.method_names = method_names

    def register(self, app: web.Application) -> None:
        """Add the routes to an aiohttp application."""
        posts: dict[str, Callable[[Json], Any]] = {
            "bot": lambda a: self.world.set_bot(**a),
            "users": lambda a: self.world.add_user(
                **_pick(a, "user_id", "first_name", "last_name", "username", "language_code", "is_bot", "label")
            ),
            "chats": lambda a: self.world.create_chat(
                **_pick(a, "title", "type", "chat_id", "username", "bot_status", "creator_id", "members")
            ),
            "send_message": lambda a: self.world.user_sends(
                **_pick(
                    a,
                    "chat_id",
                    "user_id",
                    "text",
                    "reply_to_message_id",
                    "photo",
                    "caption",
                    "sticker",
                    "document",
                    "location",
                    "forwarded_from",
                )
            ),
            "edit_message": lambda a: self.world.user_edits(
                **_pick(a, "chat_id", "message_id", "user_id", "new_text")
            ),
            "press_button": lambda a: {
                "callback_query_id": self.world.press_button(
                    **_pick(a, "chat_id", "message_id", "user_id", "callback_data", "forge")
                )
            },
            "add_member": lambda a: self.world.add_member(
                **_pick(a, "chat_id", "user_id", "by_user_id", "status")
            ),
            "remove_member": lambda a: self.world.remove_member(
                **_pick(a, "chat_id", "user_id", "by_user_id", "ban")
            ),
            "set_member_status": lambda a: self.world.set_member_status(
                **_pick(a, "chat_id", "user_id", "status")
            ),
            "kick_bot": lambda a: self.world.set_bot_status(
                a["chat_id"], a.get("status", "kicked"), a.get("by_user_id")
            ),
            "add_bot": lambda a: self.world.set_bot_status(
                a["chat_id"], a.get("status", "member"), a.get("by_user_id")
            ),
            "migrate_chat": lambda a: {
                "new_chat_id": self.world.migrate_chat(**_pick(a, "chat_id", "by_user_id"))
            },
            "block_private": lambda a: self.world.block_private(**_pick(a, "user_id", "blocked")),
            "fail_next": lambda a: self.world.fail_next(
                **_pick(a, "method", "code", "count", "retry_after", "description")
            ),
            "delay": lambda a: self.world.set_delay(**_pick(a, "method", "seconds", "count", "after")),
            "clear_faults": lambda a: self.world.clear_faults(),
            "limits": self._set_limits,
            "reset": lambda a: self.world.reset(),
        }
        gets: dict[str, Callable[[Json], Any]] = {
            "info": self._info,
            "chats": lambda a: [chat.describe() for chat in self.world.chats.values()],
            "chat": lambda a: self.world.chat(_int(a, "chat_id")).describe(),
            "messages": lambda a: self.world.messages(_int(a, "chat_id"), _opt_bool(a.get("from_bot"))),
            "message": self._message,
            "users": lambda a: list(self.world.users.values()),
            "people": lambda a: self.world.people(),
            "stats": lambda a: self.world.stats_snapshot(),
            "commands": lambda a: [
                {"scope": json.loads(scope), "language_code": lang, "commands": cmds}
                for (scope, lang), cmds in self.world.commands.items()
            ],
            "updates": lambda a: list(self.world.iter_updates()),
            "callback": lambda a: self.world.callback_answer(str(a["id"])),
            "files": lambda a: [record.as_file() for record in self.world.files.values()],
        }
        for name, action in posts.items():
            app.router.add_post(f"/_sim/{name}", self._wrap(action))
        for name, action in gets.items():
            app.router.add_get(f"/_sim/{name}", self._wrap(action))
        for path, handler in (
            ("/_sim/wait", self.wait_message),
            ("/_sim/wait_event", self.wait_event),
            ("/_sim/callback_answer", self.wait_callback_answer),
        ):
            app.router.add_get(path, handler)
            app.router.add_post(path, handler)
        app.router.add_get("/_sim/events", self.events)
        app.router.add_get("/_sim/file", self.file)

    def _wrap(self, action: Callable[[Json], Any]) -> Route:
        """Turn a plain action on the arguments into a handler with the common answer shape."""

        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                args = await _arguments(request)
                return ok(action(args))
            except SimError as exc:
                return _refuse(exc.description, exc.status)
            except (KeyError, TypeError, ValueError) as exc:
                return _refuse(f"bad arguments: {type(exc).__name__}: {exc}", 400)

        return handler

    def _info(self, args: Json) -> Json:
        """Describe the simulator: the bot, the token rule, the limits, the methods."""
        return {
            "bot": self.world.get_me(),
            "token": self.world.config.token,
            "any_token": self.world.config.token is None,
            "limits": self.world.config.limits.as_dict(),
            "methods": self.method_names,
            "last_event_seq": self.world.events.last_seq,
            "instance": self.world.instance,
            "title": self.world.config.page_title,
        }

    def _set_limits(self, args: Json) -> Json:
        """Change the flood limits (e.g. {"enabled": false} for micro-benchmarks)."""
        self.world.config.limits.update(**args)
        return self.world.config.limits.as_dict()

    def _message(self, args: Json) -> Json:
        """Return one message in its current state."""
        chat = self.world.chat(_int(args, "chat_id"))
        message = chat.messages.get(_int(args, "message_id"))
        if message is None:
            raise SimError("message not found", 404)
        return message

    async def wait_message(self, request: web.Request) -> web.StreamResponse:
        """Long-poll for messages in a chat above after_message_id (by default the bot's)."""
        try:
            args = await _arguments(request)
            chat_id = _int(args, "chat_id")
            after = int(args.get("after_message_id") or 0)
            from_bot = _opt_bool(args.get("from_bot", True))
            limit = int(args.get("limit") or 100)
            timeout = _timeout(args)
            world = self.world
            world.chat(chat_id)
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                found = world.messages(chat_id, from_bot, after, limit=limit)
                remaining = deadline - asyncio.get_running_loop().time()
                if found or remaining <= 0 or world.closing:
                    return ok({"messages": found, "timed_out": not found})
                await world.chat_changed.wait(chat_id, remaining)
        except SimError as exc:
            return _refuse(exc.description, exc.status)
        except (KeyError, TypeError, ValueError) as exc:
            return _refuse(f"bad arguments: {exc}", 400)

    async def wait_event(self, request: web.Request) -> web.StreamResponse:
        """Long-poll for events after `since` matching types / chat_id / message_id / from_bot."""
        try:
            args = await _arguments(request)
            since = int(args.get("since") or 0)
            matches = _event_filter(args)
            limit = int(args.get("limit") or 1000)
            timeout = _timeout(args)
        except (KeyError, TypeError, ValueError) as exc:
            return _refuse(f"bad arguments: {exc}", 400)
        world = self.world
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = [event for event in world.events.since(since) if matches(event)][:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if found or remaining <= 0 or world.closing:
                return ok({"events": found, "last_seq": world.events.last_seq, "timed_out": not found})
            since = world.events.last_seq
            await world.events.changed.wait(remaining)

    async def wait_callback_answer(self, request: web.Request) -> web.StreamResponse:
        """Long-poll for the bot's answer to a button press."""
        try:
            args = await _arguments(request)
            query_id = str(args["id"])
            timeout = _timeout(args)
            world = self.world
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                answer = world.callback_answer(query_id)
                remaining = deadline - asyncio.get_running_loop().time()
                if answer is not None or remaining <= 0 or world.closing:
                    return ok({"answered": answer is not None, "answer": answer})
                await world.answer_given.wait(query_id, remaining)
        except SimError as exc:
            return _refuse(exc.description, exc.status)
        except (KeyError, TypeError, ValueError) as exc:
            return _refuse(f"bad arguments: {exc}", 400)

    async def file(self, request: web.Request) -> web.StreamResponse:
        """Serve a stored file by file_id (pictures shown and documents downloaded by the chat page)."""
        record = self.world.files.get(request.query.get("file_id", ""))
        if record is None:
            return _refuse("file not found", 404)
        mime = "image/png" if record.data.startswith(b"\x89PNG") else record.mime_type
        headers = {"Cache-Control": "private, max-age=3600"}
        name = request.query.get("name")
        if name:
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return web.Response(body=record.data, content_type=mime, headers=headers)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Stream events as Server-Sent Events; ?since=seq (or Last-Event-ID) replays kept ones."""
        world = self.world
        args = dict(request.query)
        resume = request.headers.get("Last-Event-ID") or args.get("since")
        try:
            since = int(resume) if resume not in (None, "") else world.events.last_seq
            matches = _event_filter(args)
        except ValueError as exc:
            return _refuse(f"bad arguments: {exc}", 400)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                "Access-Control-Allow-Origin": "*",
            }
        )
        await response.prepare(request)
        try:
            await response.write(b"retry: 1000\n\n")
            while not world.closing:
                chunks = []
                for event in world.events.since(since):
                    since = event["seq"]
                    if matches(event):
                        chunks.append(f"id: {event['seq']}\ndata: {_dumps(event)}\n\n")
                since = max(since, world.events.last_seq)
                if chunks:
                    await response.write("".join(chunks).encode("utf-8"))
                elif not await world.events.changed.wait(15.0):
                    await response.write(b": keep-alive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response


async def _arguments(request: web.Request) -> Json:
    """Merge the query string and a JSON body into one argument dict."""
    args: Json = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        try:
            body = await request.json()
        except ValueError as exc:
            raise SimError("the body must be JSON") from exc
        if isinstance(body, dict):
            args.update(body)
    return args


def _pick(args: Json, *names: str) -> Json:
    """Keep the named arguments that are present."""
    return {name: args[name] for name in names if name in args}


def _int(args: Json, name: str) -> int:
    """Read a required integer argument."""
    if args.get(name) in (None, ""):
        raise SimError(f"{name} is required")
    return int(args[name])


def _opt_bool(value: Any) -> bool | None:
    """Read an optional boolean ("true"/"false"/"1"/"0"/"any")."""
    if value is None or value == "" or value == "any":
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def _timeout(args: Json) -> float:
    """Read a wait timeout in seconds, capped."""
    return min(max(float(args.get("timeout", 5.0)), 0.0), MAX_WAIT)


def _event_filter(args: Json) -> Callable[[Json], bool]:
    """Build a predicate from types / chat_id / message_id / from_bot arguments."""
    types = args.get("types")
    if isinstance(types, str):
        types = [t for t in types.split(",") if t]
    wanted = set(types or [])
    chat_id = int(args["chat_id"]) if args.get("chat_id") not in (None, "") else None
    message_id = int(args["message_id"]) if args.get("message_id") not in (None, "") else None
    from_bot = _opt_bool(args.get("from_bot"))

    def matches(event: Json) -> bool:
        if wanted and event["type"] not in wanted:
            return False
        if chat_id is not None and event.get("chat_id") != chat_id:
            return False
        if message_id is not None:
            message = event.get("message")
            found = message["message_id"] if message else event.get("message_id")
            if found != message_id:
                return False
        return from_bot is None or event.get("from_bot") == from_bot

    return matches


def _refuse(description: str, status: int) -> web.Response:
    """Answer a refused test-side call."""
    return web.json_response({"ok": False, "description": description}, status=status, dumps=_dumps)
