"""Reminder sweep benchmark: one sweep over a large database, its time and the memory it allocates.

The database holds 100,000 cases (10% still open, spread over 200 buildings with a building head
each, a quarter of them reachable only by a mention in the staff group; the open cases' reminders
spread over the coming week) and 2,000 shifts. The sweep is timed when nothing is due (most minutes) and
when a minute's worth of reminders is due; tracemalloc reports the peak Python allocation.

    .venv/bin/python bench/sweep.py [--cases 100000] [--shifts 2000] [--due 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text

from bot.bootstrap import build_core
from bot.config import Settings
from bot.core.clock import ManualClock
from storage.models import BuildingRow, CaseRow, ChatRow, MemberRow, RoleGrantRow, RosterRow, ShiftRow
from tests.fakes import TableClassifier

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


async def fill(core: object, cases: int, shifts: int, due: int) -> None:
    """Write the buildings, cases, roster and shifts in bulk."""
    rng = random.Random(5)
    async with core.uow() as uow:  # type: ignore[attr-defined]
        community = await uow.communities.default()
        session = uow.session
        await session.execute(insert(BuildingRow), [{"community_id": community.id, "name": f"{n}栋"} for n in range(1, 201)])
        rows = []
        open_cases = cases // 10
        for n in range(1, cases + 1):
            is_open = n <= open_cases
            created = NOW - timedelta(hours=rng.uniform(0, 24 * 90))
            if not is_open:
                reminder = None
            elif n <= due:
                reminder = NOW - timedelta(seconds=rng.uniform(1, 59))
            else:
                reminder = NOW + timedelta(minutes=rng.uniform(1, 7 * 24 * 60))
            rows.append({
                "community_id": community.id, "number": n, "category": "repair", "urgent": False,
                "text": "电梯坏了", "reporter_id": 1000 + n % 5000, "reporter_name": "居民", "chat_id": -1000 - n % 200,
                "message_id": n, "building_id": 1 + n % 200, "status": "open" if is_open else "closed",
                "created_at": created, "updated_at": created, "due_at": created + timedelta(hours=24),
                "escalation_level": 0, "source": "group", "next_reminder_at": reminder, "reminder_stage": 0,
            })
            if len(rows) == 5000:
                await session.execute(insert(CaseRow), rows)
                rows = []
        if rows:
            await session.execute(insert(CaseRow), rows)
        await session.execute(insert(RosterRow), [
            {"community_id": community.id, "person_key": f"1380000{p:04d}", "name": f"志愿者{p}", "roles": "",
             "user_id": 50_000 + p} for p in range(1, 201)
        ])
        await session.execute(insert(MemberRow), [
            {"user_id": 50_000 + p, "name": f"志愿者{p}", "can_message_privately": p % 4 != 0} for p in range(1, 201)
        ])
        await session.execute(insert(RoleGrantRow), [
            {"user_id": 50_000 + p, "role": "building_head", "scope_kind": "building", "scope_id": p}
            for p in range(1, 201)
        ] + [{"user_id": 50_001, "role": "admin", "scope_kind": "community", "scope_id": None}])
        await session.execute(insert(ChatRow), [{"chat_id": -9, "community_id": community.id, "kind": "staff"}])
        start = NOW - timedelta(days=7)
        await session.execute(insert(ShiftRow), [
            {"roster_id": 1 + s % 200, "starts_at": start + timedelta(hours=2 * s),
             "ends_at": start + timedelta(hours=2 * s + 2), "area_kind": "building", "area_id": 1 + s % 200,
             "reminded_at": start if s < shifts // 2 else None}
            for s in range(shifts)
        ])
        await uow.commit()


async def main(args: argparse.Namespace) -> None:
    """Build the database, then time idle and busy sweeps."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{folder}/sweep.db")
        clock = ManualClock(NOW)
        core = await build_core(settings, clock=clock, classifier=TableClassifier())
        started = time.perf_counter()
        await fill(core, args.cases, args.shifts, args.due)
        print(f"database: {args.cases} cases ({args.cases // 10} open, 200 buildings, a building head each), "
              f"{args.shifts} shifts "
              f"built in {time.perf_counter() - started:.1f} s")
        async with core.engine.connect() as conn:
            plan = await conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT * FROM cases WHERE next_reminder_at <= :now "
                "ORDER BY next_reminder_at LIMIT 200"), {"now": NOW.isoformat()})
            print("query plan:", "; ".join(str(row[-1]) for row in plan))

        busy_ms, acted = [], 0
        tracemalloc.start()
        started = time.perf_counter()
        acted = await core.services.sweep_reminders()
        busy_ms.append((time.perf_counter() - started) * 1000)
        _, busy_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        async with core.engine.begin() as conn:  # the same cases due again: a sweep with warm caches
            await conn.execute(text(
                "UPDATE cases SET reminder_stage = 0, escalation_level = 0, next_reminder_at = created_at "
                "WHERE id <= :due"), {"due": args.due})
        started = time.perf_counter()
        await core.services.sweep_reminders()
        busy_ms.append((time.perf_counter() - started) * 1000)
        idle_ms = []
        for _ in range(args.rounds):
            clock.advance(seconds=1)
            started = time.perf_counter()
            await core.services.sweep_reminders()
            idle_ms.append((time.perf_counter() - started) * 1000)
        tracemalloc.start()
        await core.services.sweep_reminders()
        _, idle_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await core.engine.dispose()
    print(f"busy sweep ({args.due} cases due, {acted} reminders and shift notices queued): "
          f"{busy_ms[0]:.0f} ms first after start-up, {busy_ms[1]:.0f} ms warm; "
          f"peak {busy_peak / 2**20:.1f} MiB allocated")
    print(f"idle sweep (nothing due): median {statistics.median(idle_ms):.1f} ms over {args.rounds} rounds, "
          f"peak {idle_peak / 2**20:.2f} MiB allocated")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--shifts", type=int, default=2_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
