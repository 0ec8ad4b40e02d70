"""Flood control as Telegram applies it to bots, and the delivery figures tests and benchmarks read.

Per chat: a token bucket (1 message/s sustained, a burst of 3). Per group: at most 20 messages in any
60 s. Per bot: at most 30 messages in any second. All checks are O(1) amortised per message.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from dataclasses import dataclass

from simulator.config import Limits


@dataclass(slots=True)
class _Bucket:
    """A token bucket for one chat."""

    tokens: float
    stamp: float


@dataclass(slots=True, frozen=True)
class Refusal:
    """Why and for how long a message is refused."""

    scope: str  # "chat" | "group" | "global"
    retry_after: int


class FloodControl:
    """Decides whether the bot may send one more message now, per Telegram's limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._buckets: dict[int, _Bucket] = {}
        self._groups: dict[int, deque[float]] = {}
        self._global: deque[float] = deque()

    def reset(self) -> None:
        """Forget all past sends."""
        self._buckets.clear()
        self._groups.clear()
        self._global.clear()

    def check(self, chat_id: int, is_group: bool, now: float | None = None) -> Refusal | None:
        """Return why a message to `chat_id` must wait, or None when it may go (nothing is consumed)."""
        if not self.limits.enabled:
            return None
        now = time.monotonic() if now is None else now
        limits = self.limits
        window = self._global
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limits.global_per_s:
            return Refusal("global", _ceil(window[len(window) - limits.global_per_s] + 1.0 - now))
        bucket = self._buckets.get(chat_id)
        if bucket is not None:
            tokens = min(
                float(limits.per_chat_burst), bucket.tokens + (now - bucket.stamp) * limits.per_chat_per_s
            )
            if tokens < 1.0:
                return Refusal("chat", _ceil((1.0 - tokens) / limits.per_chat_per_s))
        if is_group:
            sent = self._groups.get(chat_id)
            if sent is not None:
                while sent and sent[0] <= now - 60.0:
                    sent.popleft()
                if len(sent) >= limits.per_group_per_min:
                    return Refusal("group", _ceil(sent[len(sent) - limits.per_group_per_min] + 60.0 - now))
        return None

    def consume(self, chat_id: int, is_group: bool, now: float | None = None) -> None:
        """Record one message sent to `chat_id`."""
        if not self.limits.enabled:
            return
        now = time.monotonic() if now is None else now
        limits = self.limits
        self._global.append(now)
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            self._buckets[chat_id] = _Bucket(float(limits.per_chat_burst) - 1.0, now)
        else:
            tokens = min(
                float(limits.per_chat_burst), bucket.tokens + (now - bucket.stamp) * limits.per_chat_per_s
            )
            bucket.tokens = tokens - 1.0
            bucket.stamp = now
        if is_group:
            self._groups.setdefault(chat_id, deque()).append(now)


def _ceil(seconds: float) -> int:
    """Round a wait up to whole seconds, at least 1, as Telegram's retry_after is."""
    return max(1, math.ceil(seconds - 1e-9))


class DeliveryStats:
    """What was delivered and refused: totals, per chat, per second, and the peak rates seen."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every figure."""
        self.sent = 0
        self.edits = 0
        self.per_chat: Counter[int] = Counter()
        self.per_second: Counter[int] = Counter()
        self.rate_limited = 0
        self.rate_limited_per_chat: Counter[int] = Counter()
        self.rate_limited_by_scope: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        self.calls: Counter[str] = Counter()
        self.max_rate_per_chat_per_s = 0
        self.max_per_group_per_min = 0
        self.max_global_per_s = 0
        self._chat_second: dict[int, deque[float]] = {}
        self._group_minute: dict[int, deque[float]] = {}
        self._global_second: deque[float] = deque()

    def record_delivery(self, chat_id: int, is_group: bool) -> None:
        """Count one message delivered to `chat_id` and update the peak rates."""
        now = time.monotonic()
        self.sent += 1
        self.per_chat[chat_id] += 1
        self.per_second[int(time.time())] += 1
        self.max_global_per_s = max(self.max_global_per_s, _push(self._global_second, now, 1.0))
        window = self._chat_second.setdefault(chat_id, deque())
        self.max_rate_per_chat_per_s = max(self.max_rate_per_chat_per_s, _push(window, now, 1.0))
        if is_group:
            minute = self._group_minute.setdefault(chat_id, deque())
            self.max_per_group_per_min = max(self.max_per_group_per_min, _push(minute, now, 60.0))

    def record_refusal(self, chat_id: int | None, scope: str) -> None:
        """Count one 429 answered."""
        self.rate_limited += 1
        self.rate_limited_by_scope[scope] += 1
        if chat_id is not None:
            self.rate_limited_per_chat[chat_id] += 1

    def snapshot(self) -> dict[str, object]:
        """Return the figures as a JSON-ready dict (chat ids as strings, as JSON keys must be)."""
        return {
            "sent": self.sent,
            "edits": self.edits,
            "per_chat": {str(k): v for k, v in self.per_chat.items()},
            "per_second": {str(k): v for k, v in sorted(self.per_second.items())},
            "429": self.rate_limited,
            "429_per_chat": {str(k): v for k, v in self.rate_limited_per_chat.items()},
            "429_by_scope": dict(self.rate_limited_by_scope),
            "errors": {str(k): v for k, v in self.errors.items()},
            "calls": dict(self.calls),
            "max_rate_per_chat_per_s": self.max_rate_per_chat_per_s,
            "max_per_group_per_min": self.max_per_group_per_min,
            "max_global_per_s": self.max_global_per_s,
        }


def _push(window: deque[float], now: float, span: float) -> int:
    """Add `now` to a sliding window of `span` seconds and return how many stamps it holds."""
    window.append(now)
    while window[0] <= now - span:
        window.popleft()
    return len(window)
