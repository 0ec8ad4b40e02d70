"""A per-person flood guard: past a number of messages in a sliding window, the rest are ignored.

A member pasting 100 messages in a minute must not get 100 cases nor make the bot answer 100 times.
The guard counts each person's messages in memory (per instance: a flood arrives through one poller
or webhook); the first message over the limit gets one polite notice, the rest of the window nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class FloodGuard:
    """Sliding-window message counts per user id."""

    limit: int = 12
    window_seconds: float = 60.0
    _seen: dict[int, deque[float]] = field(default_factory=dict)
    _warned: dict[int, float] = field(default_factory=dict)

    def check(self, user_id: int, now: float) -> str:
        """'ok' to handle the message, 'warn' for the first one over the limit, 'drop' for the rest."""
        times = self._seen.setdefault(user_id, deque())
        while times and now - times[0] >= self.window_seconds:
            times.popleft()
        times.append(now)
        if len(times) <= self.limit:
            return "ok"
        warned = self._warned.get(user_id)
        if warned is not None and now - warned < self.window_seconds:
            return "drop"
        self._warned[user_id] = now
        if len(self._seen) > 10_000:  # forget quiet people so the table stays small
            for uid in [u for u, t in self._seen.items() if not t or now - t[-1] >= self.window_seconds]:
                self._seen.pop(uid, None)
                self._warned.pop(uid, None)
        return "warn"
