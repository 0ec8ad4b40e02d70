"""The simulator's HTTP server: Bot API at /bot<token>/<method>, files, and the /_sim/ test side."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from simulator.botapi import BotApi
from simulator.config import SimulatorConfig
from simulator.errors import ApiError
from simulator.params import Params
from simulator.simapi import SimRoutes
from simulator.webhook import WebhookDeliverer
from simulator.world import World

log = logging.getLogger(__name__)

_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
_NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}
WEB_DIR = Path(__file__).parent / "web"
_WEB_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def _dumps(value: Any) -> str:
    """Serialise a Bot API answer compactly, keeping Chinese readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class SimulatorApp:
    """A local Telegram Bot API: start it in a running event loop, point a bot at `url`, drive it from tests.

    >>> sim = SimulatorApp(bot_username="test_bot")
    >>> port = await sim.start("127.0.0.1", 0)
    >>> ...  # aiogram: TelegramAPIServer.from_base(sim.url); PTB: base_url=sim.url + "/bot"
    >>> await sim.stop()
    """

    def __init__(self, config: SimulatorConfig | None = None, **settings: Any) -> None:
        self.config = config or SimulatorConfig(**settings)
        self.world = World(self.config)
        self.api = BotApi(self.world)
        self.webhooks = WebhookDeliverer(self.world, self.api)
        self.api.on_webhook_change = self.webhooks.changed
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def _build_app(self) -> web.Application:
        """Create the aiohttp application with every route."""
        app = web.Application(client_max_size=self.config.max_upload_bytes + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_get("/", self._index)
        app.router.add_get("/web/{name}", self._web)
        SimRoutes(self.world, self.api.method_names).register(app)
        return app

    @property
    def url(self) -> str:
        """Base URL of the running server (aiogram: TelegramAPIServer.from_base(url))."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve on host:port (0 picks a free port) inside the running loop; return the port."""
        runner = web.AppRunner(self.app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.host = host
        self.port = int(runner.addresses[0][1])
        self.world.closing = False
        log.info("Telegram Bot API simulator listening on %s", self.url)
        return self.port

    async def stop(self) -> None:
        """Wake every long poll and stream, stop webhook delivery, close the server."""
        world = self.world
        world.closing = True
        world.updates_changed.fire()
        world.events.changed.fire()
        world.chat_changed.fire_all()
        world.answer_given.fire_all()
        await self.webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimulatorApp:
        """Start on a free port of 127.0.0.1 (unless already started)."""
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()

    async def _bot_api(self, request: web.Request) -> web.Response:
        """Answer one Bot API call in Telegram's shape."""
        if request.method not in ("GET", "POST"):
            return web.json_response(_NOT_FOUND, status=404)
        if not self.world.accepts_token(request.match_info["token"]):
            return web.json_response(_UNAUTHORIZED, status=401)
        method = request.match_info["method"]
        try:
            params = await Params.from_request(request)
            result = await self.api.call(method, params)
        except ApiError as exc:
            if self.api.knows(method):
                self.api.record_error(method, exc)
            return web.json_response(exc.payload(), status=exc.code, dumps=_dumps)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        """Serve a stored file at /file/bot<token>/<file_path>."""
        if not self.world.accepts_token(request.match_info["token"]):
            return web.json_response(_UNAUTHORIZED, status=401)
        record = self.world.file_by_path(request.match_info["path"])
        if record is None:
            return web.json_response(_NOT_FOUND, status=404)
        return web.Response(body=record.data, content_type=record.mime_type)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        """Serve the web chat page to browsers; say what this server is (JSON) to everyone else."""
        if "text/html" in request.headers.get("Accept", ""):
            return _web_file("index.html")
        return web.json_response(
            {
                "ok": True,
                "result": {"simulator": "Telegram Bot API", "bot": self.world.get_me(), "url": self.url},
            },
            dumps=_dumps,
        )


    async def _web(self, request: web.Request) -> web.StreamResponse:
        """Serve the chat page's static files (index.html, app.js, app.css)."""
        return _web_file(request.match_info["name"])


def _web_file(name: str) -> web.StreamResponse:
    """Answer one file of simulator/web/, always revalidated so a restarted demo serves its new page."""
    path = WEB_DIR / name
    kind = _WEB_TYPES.get(path.suffix)
    if kind is None or "/" in name or name.startswith(".") or not path.is_file():
        return web.json_response(_NOT_FOUND, status=404)
    return web.Response(
        body=path.read_bytes(), content_type=kind, charset="utf-8", headers={"Cache-Control": "no-cache"}
    )


async def start_simulator(host: str = "127.0.0.1", port: int = 0, **settings: Any) -> SimulatorApp:
    """Create and start a simulator in the running loop; `await sim.stop()` when done."""
    sim = SimulatorApp(**settings)
    await sim.start(host, port)
    return sim
