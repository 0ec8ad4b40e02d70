"""Webhook delivery: POST each pending update to the bot's URL, as Telegram does once a webhook is set.

Up to `max_connections` updates are in flight at once; a non-2xx answer or a connection error keeps the
update pending and is retried after a pause, and recorded for getWebhookInfo. A 2xx answer that carries
a method call (the "reply to the webhook" shortcut, JSON or multipart) is executed like an API call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp

from simulator.errors import ApiError
from simulator.params import Params, Upload
from simulator.signals import cancel_quietly
from simulator.world import Json, Webhook, World, now_ts

if TYPE_CHECKING:
    from simulator.botapi import BotApi

log = logging.getLogger(__name__)


class WebhookDeliverer:
    """Runs while a webhook is set and delivers pending updates to it."""

    def __init__(self, world: World, api: BotApi) -> None:
        self.world = world
        self.api = api
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    def changed(self) -> None:
        """Start delivering when a webhook is set (the loop ends by itself when it is deleted)."""
        if self.world.webhook is not None and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run(), name="simulator-webhook")

    async def stop(self) -> None:
        """Stop delivering and close the HTTP session."""
        await cancel_quietly(self._task)
        for task in list(self._deliveries):
            await cancel_quietly(task)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        """Hand pending updates to delivery tasks while the webhook stays set."""
        in_flight: set[int] = set()
        while not self.world.closing and (webhook := self.world.webhook) is not None:
            room = webhook.max_connections - len(in_flight)
            batch = self.world.pending_updates(room, skip=in_flight) if room > 0 else []
            for update in batch:
                in_flight.add(update["update_id"])
                task = asyncio.get_running_loop().create_task(self._deliver(webhook, update, in_flight))
                self._deliveries.add(task)
                task.add_done_callback(self._deliveries.discard)
            if not batch:
                await self.world.updates_changed.wait(1.0)

    async def _deliver(self, webhook: Webhook, update: Json, in_flight: set[int]) -> None:
        """POST one update; drop it on 2xx, else keep it for a retry after a pause."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        update_id = update["update_id"]
        error: str | None = None
        reply: tuple[str, Params] | None = None
        try:
            body = json.dumps(update, ensure_ascii=False).encode("utf-8")
            async with self._session.post(webhook.url, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    reply = await _read_reply(response)
                else:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}: {exc}"
        if error is None:
            self.world.drop_update(update_id)
            webhook.delivered += 1
        else:
            webhook.last_error_date = now_ts()
            webhook.last_error_message = error
            self.world.events.publish("webhook_error", update_id=update_id, error=error)
            await asyncio.sleep(self.world.config.webhook_retry_delay)
        in_flight.discard(update_id)
        self.world.updates_changed.fire()
        if reply is not None:
            method, params = reply
            try:
                await self.api.call(method, params)
            except ApiError as exc:
                self.api.record_error(method, exc)


async def _read_reply(response: aiohttp.ClientResponse) -> tuple[str, Params] | None:
    """Read a method call from a webhook answer, if it carries one."""
    content_type = response.content_type
    values: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    if content_type == "application/json":
        with contextlib.suppress(ValueError, aiohttp.ContentTypeError):
            body = await response.json()
            if isinstance(body, dict):
                values = body
    elif content_type.startswith("multipart/"):
        reader = aiohttp.MultipartReader(response.headers, response.content)
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename:
                uploads[part.name] = Upload(
                    bytes(await part.read()), part.filename, part.headers.get("Content-Type")
                )
            else:
                values[part.name] = await part.text()
    method = values.pop("method", None)
    if not isinstance(method, str) or not method:
        return None
    return method, Params(values, uploads)
