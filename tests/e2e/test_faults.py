"""Faults: a handler that keeps failing is parked and reported, 5xx answers and a Bot API outage are
ridden out, and nothing is lost."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.core.events import IncomingMessage
from tests.e2e.conftest import ADMIN_ID, RESIDENT_ID, World

BIN = Path(sys.executable).parent


async def cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run `residents-bot ARGS` without blocking the bot running in this event loop."""
    process = await asyncio.create_subprocess_exec(
        str(BIN / "residents-bot"), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return int(process.returncode or 0), out.decode()


async def test_update_failing_three_times_is_parked_reported_and_retried_after_a_fix(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, client = world, world.client
    admin_group = (await client.create_chat("社区管理群", type="supergroup"))["id"]
    await w.reply_of(admin_group, await w.say(admin_group, ADMIN_ID, "/bind admin"))
    services = w.runner.core.services
    original = services.intake.take_message

    async def broken(uow, event: IncomingMessage):  # type: ignore[no-untyped-def]
        if "触发故障" in event.text:
            raise RuntimeError("simulated bug")
        return await original(uow, event)

    monkeypatch.setattr(services.intake, "take_message", broken)
    poison = await w.say(w.building, RESIDENT_ID, "触发故障：电梯坏了")
    for _ in range(3):  # the worker retries on its sweeps; speed that up
        await asyncio.sleep(0.3)
        w.runner.worker.notify()
    notice = await client.wait_for_bot_message(admin_group, lambda m: "连续处理失败" in m["text"], timeout=15)
    assert "RuntimeError" in notice["text"]
    # the rest keep flowing
    after = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "3栋楼道灯坏了"), within=10)
    assert after["text"].startswith("已登记 #1")
    db = w.runner.core.settings.database_url
    env = {"DATABASE_URL": db, "PATH": str(BIN)}
    code, listed = await cli(env, "inbox", "list")
    assert "1 dead letter(s)" in listed and "RuntimeError" in listed
    code, status = await cli(env, "status")
    assert code == 1 and "dead letters: 1" in status and "instance " in status
    # after the fix, the parked update is replayed and the resident gets the card
    monkeypatch.setattr(services.intake, "take_message", original)
    dead_id = int(listed.split()[0])
    code, retried = await cli(env, "inbox", "retry", str(dead_id))
    assert code == 0, retried
    w.runner.worker.notify()
    card = await w.reply_of(w.building, poison, within=15)
    assert card["text"].startswith("已登记 #2")


async def test_server_errors_are_retried_until_the_message_is_delivered(world: World) -> None:
    w, client = world, world.client
    await client.fail_next("sendMessage", 502, count=3, description="Bad Gateway")
    card = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "3栋电梯坏了"), within=20)
    assert card["text"].startswith("已登记 #1")
    assert len([m for m in await client.bot_messages(w.building) if m["text"].startswith("已登记")]) == 1


async def test_bot_api_outage_is_ridden_out(world: World) -> None:
    w = world
    sim = w.sim
    port = sim.port
    await sim.stop()
    await asyncio.sleep(3)
    await sim.start("127.0.0.1", port)
    card = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "3栋电梯坏了"), within=40)
    assert card["text"].startswith("已登记 #1")
