"""Webhook mode: an aiohttp endpoint that commits each update to the inbox before answering 200.

Framework-free: the raw update goes to the same inbox as in polling mode and is handled by the same
worker, so aiogram and python-telegram-bot behave identically. Also serves ``/healthz``.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web

from bot.core.clock import Clock
from bot.core.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024


class WebhookServer:
    """Receives updates from Telegram (or the simulator) and stores them durably."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        secret: str,
        on_stored: Callable[[], None],
        *,
        path: str = "/telegram/webhook",
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.secret = secret
        self.on_stored = on_stored
        self.path = path
        self.received = 0
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """The aiohttp application (webhook and health routes)."""
        application = web.Application(client_max_size=MAX_BODY)
        application.router.add_post(self.path, self._update)
        application.router.add_get("/healthz", self._health)
        return application

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0 = any free port); returns the port."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook call without the right secret token from %s", request.remote)
            return web.Response(status=401, text="unauthorized")
        raw = await request.text()
        try:
            update_id = json.loads(raw)["update_id"]
            if not isinstance(update_id, int):
                raise TypeError("update_id is not an integer")
        except (ValueError, KeyError, TypeError) as err:
            log.warning("webhook body is not an update: %s", err)
            return web.Response(status=400, text="not an update")
        async with self.uow() as uow:
            await uow.inbox.store([(update_id, raw)], self.clock.now())
            await uow.commit()
        self.received += 1
        self.on_stored()
        return web.Response(status=200, text="ok")

    async def _health(self, request: web.Request) -> web.Response:
        async with self.uow() as uow:
            inbox = await uow.inbox.counts()
            backlog, oldest = await uow.outbox.backlog()
        age = (self.clock.now() - oldest).total_seconds() if oldest else 0.0
        body = {"ok": True, "inbox_backlog": inbox["backlog"], "dead_letters": inbox["dead"],
                "outbox_backlog": backlog, "outbox_oldest_seconds": round(age, 1), "received": self.received}
        return web.json_response(body)
