"""Broadcast benchmark: one announcement to 1,000 groups through the simulator, with residents writing.

Runs the simulator (Telegram's limits on: 30 msgs/s, 1/s per chat, 20/min per group) and the bot as
separate processes, as in production. The admin sends ``/broadcast 全体`` and confirms; while the
copies go out, residents report problems in random groups every ``--live-every`` seconds. Prints
total time (confirm press → last copy), copies/s, 429s, duplicates, omissions, and the p50/p95 delay
of the bot's replies to those residents. The physical limit at 25 msgs/s is 40 s for 1,000 groups.
With ``--crash N`` the bot is killed (SIGKILL) after N copies and started again: the broadcast must
resume with no group omitted or doubled; copies that were in flight at the kill are reported as
uncertain instead of being resent.

    .venv/bin/python bench/broadcast.py [--groups 1000] [--live-every 2] [--crash 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import free_port, percentile, wait_http
from simulator.client import SimulatorClient
from tests.crash_harness import seed_building_groups

TOKEN = "7000000001:BENCH-token-not-secret"
ADMIN = 9001
RESIDENTS = 50
NOTICE = "【社区通知】本周六 9:00 在中心广场举办义诊，欢迎居民参加。"
REPORTS = ["{b}号楼电梯坏了，老人下不了楼", "{b}号楼楼道灯坏了好几天了", "{b}号楼水管漏水了，麻烦物业来看看"]


def start_bot(workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The bot as its own process (``residents-bot run``)."""
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "residents-bot"), "run"], cwd=workdir, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def all_events(client: SimulatorClient, since: int) -> list[dict[str, Any]]:
    """Every message and edit event after ``since``."""
    found: list[dict[str, Any]] = []
    seq = since
    while True:
        batch = await client.wait_event(since=seq, types=["message", "edit"], timeout=0.2)
        if not batch:
            return found
        found.extend(batch)
        seq = max(int(event["seq"]) for event in batch)


async def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--live-every", type=float, default=2.0, help="seconds between residents' reports")
    parser.add_argument("--crash", type=int, default=0, help="SIGKILL the bot after this many copies, then restart")
    args = parser.parse_args()
    rng = random.Random(7)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    procs: list[subprocess.Popen[bytes]] = [sim]
    try:
        await wait_http(url)
        async with SimulatorClient(url) as client:
            await client.add_user(ADMIN, "周红")
            for uid in range(RESIDENTS):
                await client.add_user(10_000 + uid, f"居民{uid}")
            groups = [
                int((await client.create_chat(f"{i}号楼业主群", type="supergroup"))["id"])
                for i in range(1, args.groups + 1)
            ]
            db = workdir / "bench.db"
            await seed_building_groups(db, url, groups)
            env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": url, "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
                   "LOG_LEVEL": "WARNING", "POLL_TIMEOUT": "2", "ADMIN_IDS": str(ADMIN)}
            bot = start_bot(workdir, env)
            procs.append(bot)
            await client.send_message(ADMIN, ADMIN, "/start")
            await client.wait_for_bot_message(ADMIN, timeout=60)
            await client.send_message(ADMIN, ADMIN, f"/broadcast 全体\n{NOTICE}")
            summary = await client.wait_for_bot_message(ADMIN, lambda m: "确认" in m.get("text", ""), timeout=60)
            data = summary["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            since = await client.last_event_seq()
            await client.stats()
            pressed = time.time()
            await client.press_button(ADMIN, summary["message_id"], ADMIN, data)
            progress = await client.wait_for_bot_message(ADMIN, lambda m: m.get("text", "").startswith("已发送"), timeout=60)

            crashed = False
            reports: dict[tuple[int, int], float] = {}
            finished = False

            async def residents() -> None:
                while not finished:
                    await asyncio.sleep(args.live_every)
                    n = rng.randrange(len(groups))
                    sent = await client.send_message(
                        groups[n], 10_000 + rng.randrange(RESIDENTS), rng.choice(REPORTS).format(b=n + 1)
                    )
                    reports[(groups[n], int(sent["message_id"]))] = float(sent["date"])

            live = asyncio.create_task(residents())
            deadline = time.monotonic() + 30 + args.groups * 0.2
            while time.monotonic() < deadline:
                stats = await client.stats()
                if args.crash and not crashed and stats["sent"] >= args.crash:
                    bot.send_signal(signal.SIGKILL)
                    bot.wait(30)
                    bot = start_bot(workdir, env)
                    procs.append(bot)
                    crashed = True
                message = await client.message(ADMIN, progress["message_id"])
                if message.get("text", "").startswith("发送完毕"):
                    break
                await asyncio.sleep(0.5)
            finished = True
            live.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live
            await asyncio.sleep(3)  # let the last replies to residents arrive
            done_text = (await client.message(ADMIN, progress["message_id"])).get("text", "")
            events = await all_events(client, since)
            stats = await client.stats()
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(15)

    copies: dict[int, int] = dict.fromkeys(groups, 0)
    last_copy = pressed
    first_copy = float("inf")
    resident_at: dict[tuple[int, int], float] = {}
    delays: list[float] = []
    for event in events:
        message = event.get("message") or {}
        chat = int(event.get("chat_id") or 0)
        if event["type"] != "message":
            continue
        if not event.get("from_bot"):
            resident_at[(chat, int(message["message_id"]))] = float(event["time"])
            continue
        if message.get("text") == NOTICE and chat in copies:
            copies[chat] += 1
            last_copy = max(last_copy, float(event["time"]))
            first_copy = min(first_copy, float(event["time"]))
        replied = message.get("reply_to_message")
        if replied and (chat, int(replied["message_id"])) in resident_at:
            delays.append(float(event["time"]) - resident_at[(chat, int(replied["message_id"]))])
    total = last_copy - pressed
    delivered = sum(copies.values())
    duplicates = sum(1 for n in copies.values() if n > 1)
    omissions = sum(1 for n in copies.values() if n == 0)
    print(f"broadcast to {len(groups)} groups through the simulator (limits on), bot as a process on SQLite")
    print(f"  progress message : {done_text}")
    print(f"  total time       : {total:.1f} s (confirm → last copy; physical limit at 25/s: {len(groups) / 25:.0f} s)")
    print(f"  copies/s         : {delivered / total:.1f} (first copy {first_copy - pressed:.1f} s after the press; "
          f"{delivered / max(last_copy - first_copy, 1e-9):.1f}/s from first to last)")
    print(f"  429s             : {stats['429']} {dict(stats.get('429_by_scope') or {})}")
    print(f"  peak rates       : {stats['max_global_per_s']}/s overall, {stats['max_per_group_per_min']}/min per group")
    print(f"  duplicates       : {duplicates}")
    print(f"  omissions        : {omissions}")
    if args.crash:
        print(f"  crash            : SIGKILL after {args.crash} sends, restarted ({'done' if crashed else 'not reached'})")
    print(f"  resident replies : {len(delays)} of {len(reports)} reports answered during the broadcast; "
          f"p50 {percentile(delays, 0.5):.2f} s, p95 {percentile(delays, 0.95):.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
