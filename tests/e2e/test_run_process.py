"""`residents-bot run` started as a separate process, the way a user starts it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from simulator.testing import TEST_TOKEN, running_simulator
from tests.e2e.conftest import ADMIN_ID, RESIDENT_ID

BIN = Path(sys.executable).parent


async def start_bot(url: str, db: Path, *, level: str = "DEBUG", framework: str = "aiogram") -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_URL": url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "ADMIN_IDS": f"{ADMIN_ID}, 4242",
        "LOG_LEVEL": level,
        "POLL_TIMEOUT": "1",
        "BOT_FRAMEWORK": framework,
    }
    process = await asyncio.create_subprocess_exec(
        str(BIN / "residents-bot"), "run", env=env, cwd=db.parent,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    # Read the log while the bot runs: a DEBUG log left in the pipe fills its 64 KiB buffer, and the
    # bot's next log write then blocks its whole event loop.
    assert process.stderr is not None
    _logs[process.pid] = asyncio.create_task(process.stderr.read())
    return process


_logs: dict[int, asyncio.Task[bytes]] = {}


async def stop(process: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> str:
    process.send_signal(sig)
    await asyncio.wait_for(process.wait(), timeout=30)
    err = await asyncio.wait_for(_logs.pop(process.pid), timeout=30)
    return err.decode("utf-8", "replace")


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_run_serves_a_group_survives_missing_setmycommands_and_never_logs_the_token(
    tmp_path: Path, framework: str
) -> None:
    async with running_simulator() as (sim, client):
        await client.add_user(ADMIN_ID, "周红")
        await client.add_user(RESIDENT_ID, "张大爷")
        group = (await client.create_chat("3栋业主群", type="supergroup"))["id"]
        await client.fail_next("setMyCommands", 404, count=5, description="Not Found")
        process = await start_bot(sim.url, tmp_path / "bot.db", framework=framework)
        try:
            bind = await client.send_message(group, ADMIN_ID, "/bind 3栋")
            bound = await client.wait_for_bot_message(group, lambda m: "已绑定" in m["text"], timeout=30)
            assert bound["reply_to_message"]["message_id"] == bind["message_id"]
            await client.send_message(group, RESIDENT_ID, "3栋电梯坏了")
            card = await client.wait_for_bot_message(group, lambda m: m["text"].startswith("已登记 #1"), timeout=10)
            assert "报修" in card["text"]
        finally:
            log = await stop(process)
        assert process.returncode == 0, log
        assert "setMyCommands failed" in log
        secret = TEST_TOKEN.split(":", 1)[1]
        assert secret not in log and TEST_TOKEN not in log


async def test_updates_sent_while_the_bot_is_down_are_handled_after_restart(tmp_path: Path) -> None:
    async with running_simulator() as (sim, client):
        await client.add_user(ADMIN_ID, "周红")
        await client.add_user(RESIDENT_ID, "张大爷")
        group = (await client.create_chat("3栋业主群", type="supergroup"))["id"]
        process = await start_bot(sim.url, tmp_path / "bot.db", level="INFO")
        await client.send_message(group, ADMIN_ID, "/bind 3栋")
        await client.wait_for_bot_message(group, lambda m: "已绑定" in m["text"], timeout=30)
        await stop(process, signal.SIGKILL)
        for text in ("电梯坏了，老人下不了楼", "单元门门禁坏了进不去", "大家好"):
            await client.send_message(group, RESIDENT_ID, text)
        process = await start_bot(sim.url, tmp_path / "bot.db", level="INFO")
        try:
            await client.wait_for_bot_message(group, lambda m: m["text"].startswith("已登记 #2"), timeout=30)
        finally:
            await stop(process)
        cards = [m["text"] for m in await client.bot_messages(group) if m["text"].startswith("已登记")]
        assert len(cards) == 2


async def test_missing_token_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        str(BIN / "residents-bot"), "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode != 0
    assert "BOT_TOKEN is not set" in err.decode()
