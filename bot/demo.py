"""`residents-bot demo`: the 幸福里社区 demo community on the local simulator, with its web chat page.

One process runs the Bot API simulator (which serves the page) and the real bot (aiogram over HTTP,
as in production) on a fresh SQLite database. The roster, buildings and bindings are written through
the repositories; the history a visitor sees (cases in several states) is played through the
simulator as residents and staff would produce it, so every message in the chats is a real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.bootstrap import BotRunner, Core, build_core
from bot.config import Settings
from bot.core.model import Chat, ChatKind, RoleGrant
from bot.core.roles import Role, ScopeKind
from bot.i18n import Catalog
from bot.lifecycle import stop_on_signals
from bot.logging_setup import configure_logging
from simulator.client import SimulatorClient, SimulatorError
from simulator.server import SimulatorApp

log = logging.getLogger(__name__)

DEMO_TOKEN = "7000000001:DEMO-local-simulator-token"
COMMUNITY = "幸福里社区"
PAGE_TITLE = "幸福里社区 · 邻里说事演示"
DEFAULT_PORT = 8080

#: The community's grids and their buildings.
GRIDS: dict[str, tuple[str, ...]] = {"第一网格": ("1栋", "2栋"), "第二网格": ("3栋", "4栋")}
BUILDINGS: tuple[str, ...] = tuple(b for names in GRIDS.values() for b in names)
#: Fixed chat ids, so a kept database and a new simulator agree on them.
BUILDING_CHATS: dict[str, int] = {name: -1001000000100 - i for i, name in enumerate(BUILDINGS, start=1)}
STAFF_CHAT = -1001000000201
ADMIN_CHAT = -1001000000202
ADMIN_ID = 9001


@dataclass(frozen=True, slots=True)
class Person:
    """Someone on the demo roster: a Telegram user with one role, scoped to a building or grid."""

    user_id: int
    name: str
    role: Role
    building: str | None = None
    grid: str | None = None

    @property
    def is_staff(self) -> bool:
        """True for everyone who works on cases."""
        return self.role != Role.RESIDENT


ROSTER: tuple[Person, ...] = (
    Person(1001, "张大爷", Role.RESIDENT, "3栋"),
    Person(1002, "吴奶奶", Role.RESIDENT, "3栋"),
    Person(1003, "刘晓东", Role.RESIDENT, "1栋"),
    Person(1004, "李阿姨", Role.RESIDENT, "2栋"),
    Person(1005, "孙丽", Role.RESIDENT, "4栋"),
    Person(2001, "赵秀兰", Role.BUILDING_HEAD, "1栋"),
    Person(2002, "陈建国", Role.BUILDING_HEAD, "2栋"),
    Person(2003, "王芳", Role.BUILDING_HEAD, "3栋"),
    Person(2004, "黄志强", Role.BUILDING_HEAD, "4栋"),
    Person(3001, "杨静", Role.GRID_WORKER, grid="第一网格"),
    Person(3002, "何伟", Role.GRID_WORKER, grid="第二网格"),
    Person(4001, "李明", Role.VOLUNTEER),
    Person(4002, "王强", Role.VOLUNTEER),
    Person(5001, "郑国华", Role.PROPERTY),
    Person(ADMIN_ID, "周红", Role.ADMIN),
)
BY_NAME: dict[str, Person] = {p.name: p for p in ROSTER}


class PortBusy(Exception):
    """The demo's port is taken (another demo, or another program)."""


def chat_titles() -> dict[int, str]:
    """Every demo group and its title."""
    titles = {chat_id: f"{name}业主群" for name, chat_id in BUILDING_CHATS.items()}
    titles[STAFF_CHAT] = "值班群"
    titles[ADMIN_CHAT] = "幸福里社区管理群"
    return titles


def group_members(chat_id: int) -> list[int]:
    """Who is in a demo group: residents and staff of the building, everyone on duty, the admin."""
    building = next((name for name, cid in BUILDING_CHATS.items() if cid == chat_id), None)
    if building is not None:
        grid = next(g for g, names in GRIDS.items() if building in names)
        return [
            p.user_id
            for p in ROSTER
            if p.building == building or p.grid == grid or p.role in (Role.VOLUNTEER, Role.PROPERTY, Role.ADMIN)
        ]
    if chat_id == STAFF_CHAT:
        return [p.user_id for p in ROSTER if p.is_staff]
    return [p.user_id for p in ROSTER if p.role in (Role.ADMIN, Role.GRID_WORKER)]


def person_label(person: Person, texts: Catalog) -> str:
    """What the page's "who am I" picker shows next to a name, e.g. "3栋 · 楼栋长"."""
    role = texts.t(f"role.{person.role.value}")
    scope = person.building or person.grid
    return f"{scope} · {role}" if scope else role


@dataclass(slots=True)
class DemoPaths:
    """Where one demo (one port) keeps its database and the simulator's chats between runs."""

    database: Path
    snapshot: Path

    @classmethod
    def for_port(cls, data_dir: Path, port: int) -> DemoPaths:
        """The files of the demo on ``port``, so two demos on two ports never share a database."""
        return cls(data_dir / f"demo-{port}.db", data_dir / f"demo-{port}.sim.json")

    def remove(self) -> None:
        """Delete the database (with its WAL files) and the chat snapshot: the next start is fresh."""
        for path in (self.database, Path(f"{self.database}-wal"), Path(f"{self.database}-shm"), self.snapshot):
            path.unlink(missing_ok=True)


@dataclass
class Demo:
    """The demo: simulator (with the page) and bot in this event loop. ``start``, then ``stop``."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    keep: bool = False
    data_dir: Path = field(default_factory=lambda: Path("data"))
    say: Callable[[str], None] = lambda line: None
    sim: SimulatorApp | None = None
    core: Core | None = None
    runner: BotRunner | None = None
    paths: DemoPaths | None = None
    _running: bool = False

    @property
    def url(self) -> str:
        """The page's address."""
        assert self.sim is not None
        return self.sim.url + "/"

    async def bind(self) -> None:
        """Open the port (the page and the Bot API share it); raises PortBusy when it is taken."""
        sim = SimulatorApp(page_title=PAGE_TITLE)
        try:
            await sim.start(self.host, self.port)
        except OSError as err:
            await sim.stop()
            if err.errno == errno.EADDRINUSE:
                raise PortBusy(await _port_busy_message(self.host, self.port)) from None
            if err.errno == errno.EACCES:
                raise PortBusy(f"not allowed to listen on port {self.port}; choose another with --port") from None
            raise
        self.sim = sim
        self.paths = DemoPaths.for_port(self.data_dir, sim.port)

    async def start(self) -> None:
        """Prepare the database and the chats, start the bot, and play the demo's history when fresh."""
        if self.sim is None:
            await self.bind()
        assert self.sim is not None and self.paths is not None
        sim, paths = self.sim, self.paths
        restored = False
        if not self.keep:
            paths.remove()
        elif paths.snapshot.is_file():
            sim.world.restore(json.loads(paths.snapshot.read_text(encoding="utf-8")))
            restored = True
        settings = Settings(
            _env_file=None,  # a real BOT_TOKEN in .env must never reach the demo
            bot_token=DEMO_TOKEN,
            telegram_api_url=sim.url,
            database_url=f"sqlite+aiosqlite:///{paths.database}",
            admin_ids=[ADMIN_ID],
            poll_timeout=10,
        )
        self.core = core = await build_core(settings)
        texts = core.deps.texts
        seeded = await _is_seeded(core)
        async with SimulatorClient(sim.url) as client:
            if not restored:
                await furnish_simulator(client, texts)
            async with core.uow() as uow:
                last = await uow.inbox.last_update_id()
            sim.world.continue_updates_after(last or 0)
            if not seeded:
                self.say(f"preparing {COMMUNITY} (database {paths.database}) …")
                await seed_community(core)
            self.runner = BotRunner(core)
            await self.runner.start()
            self._running = True
            if not seeded:
                try:
                    await play_history(client, texts)
                except (TimeoutError, SimulatorError, LookupError) as err:
                    # the demo still works; only part of its history is missing
                    log.warning("the demo's history was not played to the end: %s", err)
                    self.say(f"warning: the demo's history was not played to the end ({type(err).__name__})")
            elif not restored:
                await press_start(client)  # the simulator forgot the private chats: staff open them again

    async def stop(self) -> None:
        """Stop the bot (finishing sends in flight), keep the chats for --keep, close the server."""
        if self.runner is not None and self._running:
            await self.runner.stop()
        elif self.core is not None:
            await self.core.engine.dispose()
        self._running = False
        if self.sim is not None:
            if self.paths is not None and self.core is not None:
                with contextlib.suppress(OSError):
                    self.paths.snapshot.parent.mkdir(parents=True, exist_ok=True)
                    self.paths.snapshot.write_text(
                        json.dumps(self.sim.world.snapshot(), ensure_ascii=False), encoding="utf-8"
                    )
            await self.sim.stop()


async def _port_busy_message(host: str, port: int) -> str:
    """Say who holds the port, and what to do instead."""
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    holder = "another program"
    with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
            session.get(f"{url}/_sim/info") as response,
        ):
            body = await response.json(content_type=None)
            if body.get("ok"):
                holder = f"another demo or simulator ({body['result'].get('title', '')}) — open {url}/"
    return (
        f"port {port} is already in use by {holder}.\n"
        f"端口 {port} 已被占用。Stop the other one first (Ctrl-C in its terminal), "
        f"or start this demo on another port: residents-bot demo --port {port + 1}"
    )


async def _is_seeded(core: Core) -> bool:
    """True when the database already holds the demo community (a kept demo)."""
    async with core.uow() as uow:
        community = await uow.communities.default()
        staff = await uow.chats.get(STAFF_CHAT)
    return community.name == COMMUNITY and staff is not None


async def furnish_simulator(client: SimulatorClient, texts: Catalog) -> None:
    """Create the roster's users (with the page's labels) and the groups, the bot already in them."""
    for person in ROSTER:
        await client.add_user(person.user_id, person.name, label=person_label(person, texts))
    for chat_id, title in chat_titles().items():
        await client.create_chat(
            title, type="supergroup", chat_id=chat_id, creator_id=ADMIN_ID, members=group_members(chat_id)
        )


async def seed_community(core: Core) -> None:
    """Write the community, grids, buildings, chat bindings and the roster's roles (one transaction)."""
    async with core.uow() as uow:
        community = await uow.communities.default()
        await uow.communities.rename(community.id, COMMUNITY)
        buildings: dict[str, int] = {}
        grids: dict[str, int] = {}
        for grid, names in GRIDS.items():
            for name in names:
                building = await uow.buildings.get_or_create(community.id, name)
                grids[grid] = await uow.buildings.place_in_grid(building.id, grid)
                buildings[name] = building.id
        titles = chat_titles()
        for name, chat_id in BUILDING_CHATS.items():
            await uow.chats.save(Chat(chat_id, community.id, ChatKind.BUILDING, titles[chat_id], buildings[name]))
        await uow.chats.save(Chat(STAFF_CHAT, community.id, ChatKind.STAFF, titles[STAFF_CHAT]))
        await uow.chats.save(Chat(ADMIN_CHAT, community.id, ChatKind.ADMIN, titles[ADMIN_CHAT]))
        for person in ROSTER:
            await uow.members.seen(person.user_id, person.name, None)
            if person.building is not None:
                grant = RoleGrant(person.role, ScopeKind.BUILDING, buildings[person.building])
            elif person.grid is not None:
                grant = RoleGrant(person.role, ScopeKind.GRID, grids[person.grid])
            else:
                grant = RoleGrant(person.role)
            await uow.members.grant(person.user_id, grant)
        await uow.commit()


class Script:
    """Acts as the demo's people through the simulator's test API and waits for the bot's answers."""

    def __init__(self, client: SimulatorClient) -> None:
        self.client = client

    async def say(self, chat_id: int, who: str, text: str, reply_to: int | None = None) -> dict[str, Any]:
        """``who`` writes ``text`` in a chat."""
        return await self.client.send_message(chat_id, BY_NAME[who].user_id, text, reply_to_message_id=reply_to)

    async def reply_to(self, chat_id: int, message: dict[str, Any], buttons: str | None = None) -> dict[str, Any]:
        """The bot's reply to ``message`` (carrying a button labelled ``buttons``, when given)."""

        def matches(m: dict[str, Any]) -> bool:
            replied = (m.get("reply_to_message") or {}).get("message_id") == message["message_id"]
            return replied and (buttons is None or _has_button(m, buttons))

        return await self.client.wait_for_bot_message(
            chat_id, matches, timeout=30, after_message_id=message["message_id"]
        )

    async def bot_says(self, chat_id: int, after: int, pattern: str, buttons: str | None = None) -> dict[str, Any]:
        """The next bot message in a chat whose text matches ``pattern``."""
        return await self.client.wait_for_bot_message(
            chat_id,
            lambda m: re.search(pattern, m.get("text") or "") is not None
            and (buttons is None or _has_button(m, buttons)),
            timeout=30,
            after_message_id=after,
        )

    async def press(self, chat_id: int, message: dict[str, Any], who: str, label: str) -> None:
        """``who`` presses the button labelled ``label`` and waits for the bot's answer."""
        data = _button_data(message, label)
        query = await self.client.press_button(chat_id, message["message_id"], BY_NAME[who].user_id, data)
        await self.client.wait_callback_answer(query, timeout=30)

    async def report(self, building: str, who: str, text: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """A resident raises something in their group; returns (case number, their message, dispatch card)."""
        chat_id = BUILDING_CHATS[building]
        before = await self._last_id(STAFF_CHAT)
        said = await self.say(chat_id, who, text)
        card = await self.reply_to(chat_id, said)
        number = int(re.search(r"#(\d+)", card["text"]).group(1))  # type: ignore[union-attr]
        dispatch = await self.bot_says(STAFF_CHAT, before, rf"#{number}\b", buttons=None)
        return number, said, dispatch

    async def write_note(self, who: str, number: int, dispatch: dict[str, Any], label: str, note: str) -> None:
        """Staff press 办结 / 说明情况 on a dispatch card and answer the bot's prompt with a note."""
        before = await self._last_id(STAFF_CHAT)
        await self.press(STAFF_CHAT, dispatch, who, label)
        prompt = await self.bot_says(STAFF_CHAT, before, rf"#{number}\b")
        await self.say(STAFF_CHAT, who, note, reply_to=prompt["message_id"])
        await self.bot_says(STAFF_CHAT, prompt["message_id"], rf"#{number}\b")

    async def _last_id(self, chat_id: int) -> int:
        """The id of the newest message in a chat (0 when empty)."""
        messages = await self.client.messages(chat_id)
        return int(messages[-1]["message_id"]) if messages else 0


def _has_button(message: dict[str, Any], label: str) -> bool:
    """True when the message carries an inline button labelled ``label``."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return any(button.get("text") == label for row in rows for button in row)


def _button_data(message: dict[str, Any], label: str) -> str:
    """The callback data of the button labelled ``label``."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("text") == label:
                return str(button["callback_data"])
    raise LookupError(f"no button {label!r} on {message.get('text')!r}")


async def press_start(client: SimulatorClient) -> None:
    """Every staff member opens a private chat with the bot (/start), so it can notify them."""
    script = Script(client)

    async def start(person: Person) -> None:
        said = await script.say(person.user_id, person.name, "/start")
        await script.reply_to(person.user_id, said)

    await asyncio.gather(*(start(p) for p in ROSTER if p.is_staff))


async def play_history(client: SimulatorClient, texts: Catalog) -> None:
    """Play the demo's past: staff press Start; four requests end up closed, claimed, open and explained."""
    script = Script(client)
    claim, resolve, explain, good = (texts.t(f"button.{k}") for k in ("claim", "resolve", "explain", "satisfied"))
    await press_start(client)
    for building, who, text in (
        ("1栋", "刘晓东", "大家早上好"),
        ("3栋", "王芳", "大家好，我是3栋楼栋长王芳，有事直接在群里说"),
        ("3栋", "吴奶奶", "今天天气不错，下午一起去广场跳舞吧"),
        ("3栋", "张大爷", "好呀，三点见"),
    ):
        await script.say(BUILDING_CHATS[building], who, text)
    light = await script.report("1栋", "刘晓东", "1栋楼道灯坏了，晚上黑乎乎的")
    parking = await script.report("2栋", "李阿姨", "2栋门口有车乱停，把消防通道堵了")
    await script.report("4栋", "孙丽", "4栋垃圾桶满了好几天没人清理")
    charging = await script.report("1栋", "刘晓东", "能不能在小区里多装几个电动车充电桩")

    async def fixed_and_thanked() -> None:
        number, said, dispatch = light
        await script.press(STAFF_CHAT, dispatch, "李明", claim)
        await script.write_note("李明", number, dispatch, resolve, "已更换3楼和5楼的楼道灯，晚上亮了")
        echo = await script.reply_to(BUILDING_CHATS["1栋"], said, buttons=good)
        await script.press(BUILDING_CHATS["1栋"], echo, "刘晓东", good)

    async def explained() -> None:
        number, _, dispatch = charging
        await script.write_note("杨静", number, dispatch, explain, "已报街道，列入明年老旧小区改造计划")

    async def status() -> None:
        await script.reply_to(ADMIN_CHAT, await script.say(ADMIN_CHAT, "周红", "/status"))

    await script.press(STAFF_CHAT, parking[2], "郑国华", claim)
    await asyncio.gather(fixed_and_thanked(), explained(), status())


async def serve(host: str, port: int, keep: bool, data_dir: Path | None = None) -> int:
    """Run the demo until SIGINT/SIGTERM; returns the exit status."""
    stop = stop_on_signals()

    def say(line: str) -> None:
        print(line, flush=True)

    demo = Demo(host, port, keep, data_dir or Path("data"), say)
    try:
        await demo.bind()
    except PortBusy as busy:
        print(f"residents-bot demo: {busy}", file=sys.stderr, flush=True)
        return 1
    say(f"邻里说事 demo · {COMMUNITY}: simulator and chat page on {demo.url}")
    starting = asyncio.create_task(demo.start())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            say(f"Demo ready: open {demo.url} in a browser (演示已就绪). Ctrl-C stops it.")
            await stop.wait()
    finally:
        for task in (starting, stopping):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        say("stopping the demo …")
        await demo.stop()
    say("demo stopped. `residents-bot demo --keep` continues from here; without --keep it starts afresh.")
    return 0


def run_demo(host: str = "127.0.0.1", port: int = DEFAULT_PORT, keep: bool = False) -> int:
    """Entry point of ``residents-bot demo``: quiet logs, one event loop, exit status 0 on Ctrl-C."""
    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"), [DEMO_TOKEN])
    return asyncio.run(serve(host, port, keep))
