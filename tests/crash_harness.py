"""Crash harness: feed a burst of mixed updates through the simulator while the bot process is killed
and restarted at random points, then check that nothing was lost or done twice.

Used by tests/e2e/test_crash.py (small) and bench/crash.py (1,000 updates, 20 kills per framework).
Each building group gets one request, a repeat of it by a neighbour (merged into the same case, with a
+1 button) and a +1 press by a third resident, mixed with chat; so afterwards every group must have
exactly one case with exactly two supporters.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.bootstrap import build_core
from bot.config import Settings
from bot.core.model import Chat, ChatKind
from simulator.client import SimulatorClient
from simulator.testing import TEST_TOKEN, running_simulator
from storage.models import CaseRow, CaseSupporterRow, InboxRow

BIN = Path(sys.executable).parent
PROBLEMS = ["电梯坏了", "楼道灯坏了", "单元门门禁坏了", "水管漏水了", "路灯不亮了", "垃圾没人清理"]
CHAT = ["大家早上好", "谢谢楼长", "收到", "哈哈哈", "今天天气真好", "快递到了吗", "好的", "辛苦了", "👍"]


@dataclass
class CrashReport:
    """What the harness found."""

    framework: str
    signal: str
    updates: int
    kills: int
    groups: int
    cases: int
    cases_expected: int
    supporters: Counter[int] = field(default_factory=Counter)
    cards: int = 0
    card_duplicates: int = 0
    duplicate_replies: int = 0
    reply_duplicates: int = 0
    unhandled: int = 0
    dead: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every request one case, every press once, nothing left unhandled or lost."""
        return (
            self.cases == self.cases_expected
            and all(count == 2 for count in self.supporters.values())
            and len(self.supporters) == self.cases_expected
            and self.cards - self.card_duplicates == self.cases_expected
            and self.unhandled == 0
            and self.dead == 0
        )


async def _start(url: str, db: Path, framework: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "BOT_TOKEN": TEST_TOKEN, "TELEGRAM_API_URL": url, "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
           "BOT_FRAMEWORK": framework, "LOG_LEVEL": "WARNING", "POLL_TIMEOUT": "1"}
    return await asyncio.create_subprocess_exec(
        str(BIN / "residents-bot"), "run", env=env, cwd=db.parent,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )


async def seed_building_groups(db: Path, url: str, groups: list[int]) -> None:
    """Create the bot's database with one building (1号楼, 2号楼 …) bound to each group chat."""
    core = await build_core(Settings(_env_file=None, bot_token=TEST_TOKEN, telegram_api_url=url,
                                     database_url=f"sqlite+aiosqlite:///{db}"))
    async with core.uow() as uow:
        community = await uow.communities.default()
        for i, chat_id in enumerate(groups, start=1):
            building = await uow.buildings.get_or_create(community.id, f"{i}号楼")
            await uow.chats.save(Chat(chat_id, community.id, ChatKind.BUILDING, f"{i}号楼群", building.id))
        await uow.commit()
    await core.engine.dispose()


class Killer:
    """Kills the bot at random moments and starts it again at once."""

    def __init__(self, url: str, db: Path, framework: str, sig: int, kills: int, rng: random.Random) -> None:
        self.url, self.db, self.framework, self.sig, self.rng = url, db, framework, sig, rng
        self.remaining = kills
        self.done = 0
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await _start(self.url, self.db, self.framework)

    async def maybe_kill(self, chance: float) -> None:
        if self.remaining and self.rng.random() < chance and self.process is not None:
            await asyncio.sleep(self.rng.random() * 0.3)
            self.process.send_signal(self.sig)
            await self.process.wait()
            self.remaining -= 1
            self.done += 1
            await self.start()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 60)


async def _bot_replies(client: SimulatorClient, group: int, prefix: str) -> list[dict[str, Any]]:
    return [m for m in await client.bot_messages(group) if m["text"].startswith(prefix) or prefix in m["text"]]


async def run_crash(
    workdir: Path, *, framework: str = "aiogram", groups: int = 30, chat_per_group: int = 6,
    kills: int = 4, sig: int = signal.SIGKILL, seed: int = 1,
) -> CrashReport:
    """Run the scenario; returns the report (check ``report.ok``)."""
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with running_simulator() as (sim, client):
        residents = [7000 + i for i in range(3 * groups)]
        for uid in residents:
            await client.add_user(uid, f"居民{uid}")
        chats = [int((await client.create_chat(f"{i + 1}号楼群", type="supergroup"))["id"]) for i in range(groups)]
        db = workdir / f"crash-{framework}.db"
        await seed_building_groups(db, sim.url, chats)
        killer = Killer(sim.url, db, framework, sig, kills, rng)
        await killer.start()
        plan: list[tuple[int, int, str]] = []
        for g, chat in enumerate(chats):
            problem = f"{g + 1}号楼{PROBLEMS[g % len(PROBLEMS)]}"
            plan.append((chat, residents[3 * g], problem + "，麻烦看看"))
            plan.append((chat, residents[3 * g + 1], problem + "，我家也是"))
            plan.extend((chat, residents[3 * g + 2], rng.choice(CHAT)) for _ in range(chat_per_group))
        # keep each group's request before its repeat; shuffle the rest
        order = sorted(range(len(plan)), key=lambda i: (rng.random() if i % (chat_per_group + 2) > 1 else -1, i))
        updates = 0
        kill_chance = kills / max(len(plan) / 10, 1)
        for n, index in enumerate(order, start=1):
            chat, user, text = plan[index]
            await client.send_message(chat, user, text)
            updates += 1
            if n % 10 == 0:
                await killer.maybe_kill(kill_chance)
        # wait for every repeat to be answered with the +1 button, then press it (more kills meanwhile)
        for g, chat in enumerate(chats):
            reply = await client.wait_for_bot_message(chat, lambda m: "已有同类工单" in m["text"], timeout=120)
            data = reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            await client.press_button(chat, reply["message_id"], residents[3 * g + 2], data)
            updates += 1
            if g % 3 == 0:
                await killer.maybe_kill(kill_chance * 3)
        while killer.remaining:
            await killer.maybe_kill(1.0)
        # let the last instance finish everything
        for _ in range(240):
            async with _Db(db) as session:
                pending = await session.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_(None)))
                supporters = await session.scalar(select(func.count()).select_from(CaseSupporterRow))
            if not pending and supporters >= 2 * groups:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # late duplicates would arrive now
        await killer.stop()
        report = CrashReport(framework, signal.Signals(sig).name, updates, killer.done, groups, 0, groups)
        async with _Db(db) as session:
            report.cases = int(await session.scalar(select(func.count()).select_from(CaseRow)) or 0)
            for case_id, in (await session.execute(select(CaseSupporterRow.case_id))).all():
                report.supporters[int(case_id)] += 1
            report.unhandled = int(await session.scalar(
                select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_(None), InboxRow.dead.is_(False))
            ) or 0)
            report.dead = int(await session.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.dead.is_(True))) or 0)
        for chat in chats:
            cards = [m for m in await client.bot_messages(chat) if m["text"].startswith("已登记 #")]
            repeats = [m for m in await client.bot_messages(chat) if "已有同类工单" in m["text"]]
            report.cards += len(cards)
            report.card_duplicates += max(len(cards) - 1, 0)
            report.duplicate_replies += len(repeats)
            report.reply_duplicates += max(len(repeats) - 1, 0)
    report.seconds = loop.time() - started
    return report


class _Db:
    """A short read-only look at the bot's SQLite database."""

    def __init__(self, db: Path) -> None:
        from storage.db import create_engine, session_factory

        self.engine = create_engine(f"sqlite+aiosqlite:///{db}")
        self.sessions = session_factory(self.engine)

    async def __aenter__(self) -> Any:
        self.session = self.sessions()
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        await self.engine.dispose()
