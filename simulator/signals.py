"""Wake-ups without busy loops: broadcast signals, keyed signals and the numbered event log."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Hashable, Iterator
from typing import Any


class Signal:
    """A broadcast wake-up: every coroutine waiting when `fire()` is called wakes once."""

    __slots__ = ("_event", "waiters")

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.waiters = 0

    def fire(self) -> None:
        """Wake everyone waiting now."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> bool:
        """Wait for the next `fire()` for at most `seconds`; True if it fired."""
        if seconds <= 0:
            return False
        event = self._event
        self.waiters += 1
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiters -= 1


class KeyedSignals:
    """One `Signal` per key, created while someone waits on it and dropped afterwards."""

    def __init__(self) -> None:
        self._signals: dict[Hashable, Signal] = {}

    def fire(self, key: Hashable) -> None:
        """Wake the waiters of `key`, if any."""
        signal = self._signals.get(key)
        if signal is not None:
            signal.fire()

    def fire_all(self) -> None:
        """Wake every waiter of every key."""
        for signal in list(self._signals.values()):
            signal.fire()

    async def wait(self, key: Hashable, seconds: float) -> bool:
        """Wait for `fire(key)` for at most `seconds`; True if it fired."""
        signal = self._signals.get(key)
        if signal is None:
            signal = self._signals[key] = Signal()
        try:
            return await signal.wait(seconds)
        finally:
            if signal.waiters == 0 and self._signals.get(key) is signal:
                del self._signals[key]


class EventLog:
    """The numbered record of everything that happens, kept in a ring buffer for replay and waits.

    Each event is a flat JSON-ready dict: {"seq", "time", "type", ...}. `seq` grows by one per event, so
    a reader resumes from the last seq it saw (SSE `Last-Event-ID`, `since=` on the wait endpoints).
    """

    def __init__(self, keep: int) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=keep)
        self.last_seq = 0
        self.changed = Signal()

    def publish(self, kind: str, **data: Any) -> dict[str, Any]:
        """Append an event and wake its readers."""
        self.last_seq += 1
        event = {"seq": self.last_seq, "time": round(time.time(), 3), "type": kind, **data}
        self._events.append(event)
        self.changed.fire()
        return event

    def since(self, seq: int) -> Iterator[dict[str, Any]]:
        """Yield the kept events with a seq above `seq`, oldest first, in O(new events)."""
        newer: list[dict[str, Any]] = []
        for event in reversed(self._events):
            if event["seq"] <= seq:
                break
            newer.append(event)
        yield from reversed(newer)

    def clear(self) -> None:
        """Drop the kept events (the seq keeps counting, so readers never see a seq twice)."""
        self._events.clear()


async def cancel_quietly(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and wait for it, swallowing its cancellation."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
