"""Ingest benchmark: group messages through the real aiogram client and the simulator, on SQLite.

Runs the simulator and the bot as separate processes (as in production), sends N messages into 200
building groups (10% requests, 90% chat), at full speed and at a steady rate, and prints updates/s
and the p50/p99 time from a message entering the simulator to the bot's reply arriving there. Then
the same load against a bare aiogram echo bot on the same simulator, and the ratio of the two.

    .venv/bin/python bench/ingest.py [--messages 2000] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.client import SimulatorClient
from tests.crash_harness import seed_building_groups

TOKEN = "7000000001:BENCH-token-not-secret"
GROUPS = 200
USERS = 400
REQUESTS = [
    "{b}号楼电梯坏了，老人下不了楼", "{b}号楼楼道灯坏了好几天了", "{b}号楼门口垃圾没人清理，臭死了",
    "{b}号楼楼上装修噪音太大，中午都不停", "有人把车停在{b}号楼消防通道上", "{b}号楼水管漏水了，麻烦物业来看看",
    "{b}号楼单元门门禁坏了进不去", "{b}号楼有人飞线充电，太危险了",
]
CHAT = [
    "大家早上好", "谢谢楼长", "收到", "哈哈哈", "今天天气真好", "有人一起去买菜吗", "快递到了吗",
    "好的", "晚上广场有活动", "👍", "周末愉快", "孩子放学了吗", "楼下的桂花开了", "辛苦了",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait_http(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    async with SimulatorClient(url) as client:
        while True:
            try:
                await client.info()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


def peak_rss_mib(pid: int) -> float:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def handled(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return int(conn.execute("select count(*) from inbox where handled_at is not null").fetchone()[0])


async def send_load(
    client: SimulatorClient, groups: list[int], count: int, rate: float | None, rng: random.Random
) -> set[int]:
    """Send ``count`` messages; returns the message keys (chat, id) of the requests among them."""
    plan = []
    for i in range(count):
        chat = groups[i % len(groups)]
        user = 10_000 + rng.randrange(USERS)
        if rng.random() < 0.10:
            text = rng.choice(REQUESTS).format(b=groups.index(chat) + 1)
        else:
            text = rng.choice(CHAT)
        plan.append((chat, user, text))
    start = time.monotonic()
    queue: asyncio.Queue[tuple[int, tuple[int, int, str]]] = asyncio.Queue()
    for item in enumerate(plan):
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            i, (chat, user, text) = queue.get_nowait()
            if rate:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await client.send_message(chat, user, text)

    await asyncio.gather(*(worker() for _ in range(32 if rate is None else 8)))
    return set()


async def collect_latencies(client: SimulatorClient, since: int) -> tuple[list[float], int]:
    """(reply latencies in ms, replies) from the simulator's event log after ``since``."""
    sent_at: dict[tuple[int, int], float] = {}
    latencies: list[float] = []
    seq = since
    while True:
        events = await client.wait_event(since=seq, types=["message"], timeout=0.5)
        if not events:
            break
        for event in events:
            seq = max(seq, int(event["seq"]))
            message = event["message"]
            key = (int(event["chat_id"]), int(message["message_id"]))
            if not event["from_bot"]:
                sent_at[key] = float(event["time"])
                continue
            replied = message.get("reply_to_message")
            if replied:
                origin = sent_at.get((int(event["chat_id"]), int(replied["message_id"])))
                if origin is not None:
                    latencies.append((float(event["time"]) - origin) * 1000)
    return latencies, len(latencies)


async def run_phase(
    name: str, client: SimulatorClient, groups: list[int], count: int, rate: float | None,
    done: Any, expected_replies: int | None, rng: random.Random,
) -> dict[str, float]:
    since = await client.last_event_seq()
    base = done()
    t0 = time.monotonic()
    await send_load(client, groups, count, rate, rng)
    sent = time.monotonic()
    deadline = sent + 600
    while done() - base < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    finished = time.monotonic()
    await asyncio.sleep(0.5)
    # wait for the replies to drain (paced by the bot's own limits)
    last = -1
    while True:
        latencies, replies = await collect_latencies(client, since)
        if expected_replies is not None and replies >= expected_replies:
            break
        if replies == last:
            break
        last = replies
        await asyncio.sleep(2.0)
    return {
        "phase": name,  # type: ignore[dict-item]
        "updates": float(done() - base),
        "seconds": finished - t0,
        "updates_per_s": (done() - base) / (finished - t0),
        "replies": float(replies),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
    }


def show(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n{title}")
    print(f"{'phase':<22}{'updates':>8}{'secs':>8}{'upd/s':>9}{'replies':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for r in rows:
        print(
            f"{r['phase']:<22}{int(r['updates']):>8}{r['seconds']:>8.1f}{r['updates_per_s']:>9.0f}"
            f"{int(r['replies']):>9}{r['p50_ms']:>9.0f}{r['p99_ms']:>9.0f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    py = sys.executable
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    sim = subprocess.Popen(
        [py, "-m", "simulator", "--host", "127.0.0.1", "--port", str(port), "--no-limits"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    procs: list[subprocess.Popen[bytes]] = [sim]
    try:
        await wait_http(url)
        async with SimulatorClient(url) as client:
            for uid in range(USERS):
                await client.add_user(10_000 + uid, f"居民{uid}")
            groups = [int((await client.create_chat(f"{i}号楼业主群", type="supergroup"))["id"]) for i in range(1, GROUPS + 1)]
            db = workdir / "bench.db"
            await seed_building_groups(db, url, groups)
            env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": url, "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
                   "LOG_LEVEL": "WARNING", "POLL_TIMEOUT": "2"}
            bot = subprocess.Popen([str(Path(py).parent / "residents-bot"), "run"], cwd=workdir, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(bot)
            await client.send_message(groups[0], 10_000, "大家好")  # warm-up: wait for the bot to poll
            while handled(db) < 1:
                await asyncio.sleep(0.1)
            ours = [
                await run_phase("pipeline full speed", client, groups, args.messages, None, lambda: handled(db), None, rng),
                await run_phase(f"pipeline {args.rate:.0f} msg/s", client, groups, args.messages, args.rate,
                                lambda: handled(db), None, rng),
            ]
            rss = peak_rss_mib(bot.pid)
            bot.terminate()
            bot.wait(30)
            show(ours, f"邻里说事 pipeline (aiogram + inbox/outbox on SQLite), peak RSS {rss:.0f} MiB")
            if args.skip_baseline:
                return
            echoes = {"n": 0}
            echo = subprocess.Popen([py, str(ROOT / "bench" / "echo_bot.py")], cwd=workdir, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(echo)
            start_seq = await client.last_event_seq()

            def echo_count() -> int:
                return echoes["n"]

            async with SimulatorClient(url) as follower:
                client_follow = asyncio.create_task(_follow(follower, start_seq, echoes))
                await client.send_message(groups[0], 10_000, "warm up")
                while echoes["n"] < 1:
                    await asyncio.sleep(0.1)
                base_rows = [
                    await run_phase("echo full speed", client, groups, args.messages, None, echo_count, args.messages, rng),
                    await run_phase(f"echo {args.rate:.0f} msg/s", client, groups, args.messages, args.rate, echo_count,
                                    args.messages, rng),
                ]
                client_follow.cancel()
            show(base_rows, f"bare aiogram echo bot (start_polling, reply to every message), peak RSS {peak_rss_mib(echo.pid):.0f} MiB")
            ratio = ours[0]["updates_per_s"] / base_rows[0]["updates_per_s"]
            print(f"\npipeline keeps {ratio:.0%} of the bare framework's updates/s at full speed")
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(15)


async def _follow(client: SimulatorClient, since: int, counter: dict[str, int]) -> None:
    async for event in client.events(since=since):
        if event.get("type") == "message" and event.get("from_bot"):
            counter["n"] += 1


if __name__ == "__main__":
    asyncio.run(main())
