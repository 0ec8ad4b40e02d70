"""APScheduler set-up: it only wakes sweeps that call services; due times live in the database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


def build_scheduler(timezone: str, jobs: dict[str, tuple[Callable[[], Awaitable[None]], int]]) -> AsyncIOScheduler:
    """A scheduler with interval jobs registered by name: {name: (coroutine function, seconds)}."""
    scheduler = AsyncIOScheduler(timezone=timezone)
    for name, (func, seconds) in jobs.items():
        scheduler.add_job(
            func, "interval", seconds=seconds, id=name, name=name, coalesce=True, max_instances=1,
            misfire_grace_time=max(seconds, 30),
        )
    return scheduler
