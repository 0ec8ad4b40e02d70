"""The outbox sender: delivers queued messages within Telegram's limits and records each delivery.

Limits kept (Telegram's, with a margin): at most 25 messages/s overall, 1 message/s per chat and
18 messages per minute per group. Rows leave by priority (live replies before digests before
broadcasts), and bulk traffic leaves ``live_reserve`` of each second's budget to live replies, so a
broadcast never holds a case card back by more than about a second. A 429 pauses every send for
``retry_after`` plus a little jitter; a 403 or "chat not found" marks the chat inactive and drops its
queue; a migrated group moves its queue to the new id. While Telegram cannot be reached at all, messages
wait (retried with a back-off that grows to a minute) for up to ``UNREACHABLE_PATIENCE`` instead of
failing after ``MAX_ATTEMPTS`` tries, so an outage of minutes or hours loses nothing. A send is counted
against the limits when it actually starts (only as many are started as there are free connections).

A send that timed out after the request left is *uncertain*: Telegram has no idempotency key, so
retrying may deliver twice and not retrying may lose the message. Live messages are retried
(at-least-once): a resident who sees a case card twice is better served than one who never sees it;
such retries are counted in ``SenderStats.uncertain_retries``. Broadcast copies (priority
``PRIORITY_BROADCAST``) are at-most-once: each is marked "in flight" in the database before its
request leaves; a copy that timed out, or was in flight when the sender stopped (crash, restart,
leadership lost), is marked failed as uncertain and named in the admin's report, never resent.
See docs/RELIABILITY.md, "Broadcasts".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.model import PRIORITY_BROADCAST, OutboxKind, OutboxStatus, OutgoingMessage
from bot.core.ports import (
    ChatGone,
    ChatMoved,
    Messenger,
    Rejected,
    RetryLater,
    Uncertain,
    UnitOfWork,
    UnitOfWorkFactory,
    Unreachable,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
# While Telegram cannot be reached at all (connection refused, 5xx), the message is not at fault: it waits,
# retried with a back-off that grows to a minute, for up to this long before it counts as failed.
UNREACHABLE_PATIENCE = timedelta(hours=24)
NOT_MODIFIED = "message is not modified"
CHAT_NOT_FOUND = "chat not found"
UNCERTAIN_BROADCAST = "uncertain: the request may have been delivered; not resent"


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's sending limits, with a safety margin."""

    per_second: int = 25
    per_chat_interval: float = 1.0
    per_group_per_minute: int = 18
    #: sends per second that bulk traffic (broadcasts) leaves free for live replies
    live_reserve: int = 0
    #: the longest random extra wait added to every ``retry_after``
    jitter: float = 0.5

    def scaled(self, factor: float) -> Limits:
        """The same limits ``factor`` times faster (tests run a minute of traffic in seconds)."""
        return Limits(
            per_second=max(1, round(self.per_second * factor)),
            per_chat_interval=self.per_chat_interval / factor,
            per_group_per_minute=self.per_group_per_minute,
            live_reserve=self.live_reserve,
            jitter=self.jitter / factor,
        )


@dataclass(slots=True)
class SenderStats:
    """Counters for /status, health checks and benchmarks."""

    sent: int = 0
    edited: int = 0
    failed: int = 0
    retry_after: int = 0
    uncertain_retries: int = 0
    uncertain_dropped: int = 0
    last_429_at: float | None = None


class Pacer:
    """Decides when the next message to a chat may go out (monotonic seconds)."""

    def __init__(self, limits: Limits, now: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.now = now
        self._global: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._group: dict[int, deque[float]] = {}
        self._paused: dict[int, float] = {}
        self._paused_all = 0.0

    def ready_at(self, chat_id: int, *, bulk: bool = False) -> float:
        """The earliest moment a message to ``chat_id`` keeps every limit.

        ``bulk`` traffic may use only ``per_second - live_reserve`` of each second, so live replies find room.
        """
        now = self.now()
        moments = [now, self._paused.get(chat_id, 0.0), self._paused_all]
        last = self._chat_last.get(chat_id)
        if last is not None:
            moments.append(last + self.limits.per_chat_interval)
        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        cap = self.limits.per_second
        if bulk:
            cap = max(1, cap - self.limits.live_reserve)
        if len(self._global) >= cap:
            moments.append(self._global[len(self._global) - cap] + 1.0)
        if chat_id < 0:
            window = self._group.get(chat_id)
            if window:
                while window and window[0] <= now - 60.0:
                    window.popleft()
                if len(window) >= self.limits.per_group_per_minute:
                    moments.append(window[0] + 60.0)
        return max(moments)

    def record(self, chat_id: int) -> None:
        """Count a message about to be sent to ``chat_id``."""
        now = self.now()
        self._global.append(now)
        self._chat_last[chat_id] = now
        if chat_id < 0:
            self._group.setdefault(chat_id, deque()).append(now)

    def pause(self, chat_id: int, seconds: float) -> None:
        """Hold a chat back after Telegram said 429."""
        self._paused[chat_id] = self.now() + seconds

    def pause_all(self, seconds: float) -> None:
        """Hold every chat back (Telegram said 429: the bot as a whole waits)."""
        self._paused_all = max(self._paused_all, self.now() + seconds)

    @property
    def paused_until(self) -> float:
        """Until when every send waits after a 429 (monotonic seconds; in the past when not paused)."""
        return self._paused_all


@dataclass
class OutboxSender:
    """Drains the outbox: one task, concurrent sends to different chats, strict order within a chat."""

    uow: UnitOfWorkFactory
    messenger: Messenger
    clock: Clock
    limits: Limits = field(default_factory=Limits)
    concurrency: int = 8
    idle_poll: float = 5.0
    stats: SenderStats = field(default_factory=SenderStats)
    on_chat_gone: Callable[[int], None] | None = None
    leader: Callable[[], Awaitable[bool]] | None = None

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.limits)
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._in_flight_rows: set[int] = set()
        self._slots = asyncio.Semaphore(self.concurrency)
        self._recovered = False
        self._follower = False
        self._starts: deque[float] = deque()

    def notify(self) -> None:
        """Wake the sender: something was committed to the outbox."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stopped; finishes the sends already in flight before returning."""
        # A process that just stopped may have used this second's budget: start one second later.
        self.pacer.pause_all(1.0)
        while not self._stopping:
            self._wake.clear()
            if self.leader is not None and not await self.leader():
                self._follower = True  # another instance sends; take over if it goes away
                await asyncio.sleep(2.0)
                continue
            if self._follower:  # taking over: as after a restart, recover its copies in flight and wait 1 s
                self._follower = False
                self._recovered = False
                self.pacer.pause_all(1.0)
            try:
                delay = await self.drain_once()
            except Exception:
                log.exception("outbox pass failed; retrying shortly")
                delay = 1.0
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    def stop(self) -> None:
        """Ask the loop to finish after the sends in flight."""
        self._stopping = True
        self._wake.set()

    async def drain_once(self) -> float:
        """Start every send whose chat is ready; returns how long to sleep before the next pass.

        Only as many sends start as there are free connections, so a send is counted against the limits
        when it really leaves; rows come most urgent first, so a live reply takes the next free slot.
        """
        now = self.clock.now()
        async with self.uow() as uow:
            if not self._recovered:
                await self._recover(uow)
            due = await uow.outbox.due(now, 500)
            targets: dict[int, tuple[int, int] | str | None] = {}
            for message in due:
                if message.kind == OutboxKind.EDIT and message.edit_of is not None:
                    targets[message.id or 0] = await self._edit_target(uow, message.edit_of)
        wait = self.idle_poll
        held: set[int] = set()
        starting: list[tuple[OutgoingMessage, tuple[int, int] | str | None]] = []
        free = self.concurrency - len(self._in_flight)
        for message in due:
            if free <= 0:
                wait = min(wait, 0.5)  # a finishing send wakes the loop sooner
                break
            chat = message.chat_id
            if chat in held or chat in self._in_flight:
                held.add(chat)  # strict order within a chat: nothing overtakes an earlier message
                continue
            target = targets.get(message.id or 0)
            if target == "waiting":
                held.add(chat)
                wait = min(wait, 0.2)
                continue
            ready = self.pacer.ready_at(chat, bulk=message.priority >= PRIORITY_BROADCAST)
            lag = ready - self.pacer.now()
            if lag > 0:
                held.add(chat)
                wait = min(wait, lag)
                continue
            self.pacer.record(chat)
            held.add(chat)
            free -= 1
            starting.append((message, target))
        self._in_flight_rows.update(m.id or 0 for m, _ in starting if self._at_most_once(m))
        for message, target in starting:
            self._in_flight[message.chat_id] = asyncio.create_task(self._deliver(message, target))
        return max(wait, 0.01)

    @staticmethod
    def _at_most_once(message: OutgoingMessage) -> bool:
        return message.kind == OutboxKind.SEND and message.priority >= PRIORITY_BROADCAST

    async def _recover(self, uow: UnitOfWork) -> None:
        """Broadcast copies left "in flight" by a sender that stopped are uncertain: fail them, never resend."""
        orphans = [oid for oid in await uow.broadcasts.in_flight() if oid not in self._in_flight_rows]
        for oid in orphans:
            await uow.outbox.mark_failed(oid, UNCERTAIN_BROADCAST, self.clock.now())
        if orphans:
            log.warning("%d broadcast copies were in flight when the sender stopped: marked uncertain", len(orphans))
            self.stats.uncertain_dropped += len(orphans)
            await uow.commit()
        self._recovered = True

    async def _edit_target(self, uow: UnitOfWork, outbox_id: int) -> tuple[int, int] | str | None:
        located = await uow.outbox.message_id_of(outbox_id)
        if located is not None:
            return located
        status = await uow.outbox.status_of(outbox_id)
        return "waiting" if status == OutboxStatus.PENDING else None

    async def _deliver(self, message: OutgoingMessage, target: tuple[int, int] | str | None) -> None:
        chat = message.chat_id
        try:
            async with self._slots:
                await self._attempt(message, target)
        except Exception:
            log.exception("outbox %s to chat %s: unexpected error", message.id, chat)
            await self._retry(message, 5.0, "unexpected error")
        finally:
            self._in_flight.pop(chat, None)
            self._in_flight_rows.discard(message.id or 0)
            self._wake.set()

    async def _start_gate(self) -> None:
        """Let a request leave only when it keeps ``per_second`` in every second of *actual* starts.

        The pacer counts a send when it is dispatched; this gate counts it when the request really
        leaves (a busy event loop cannot bunch a second's sends into a burst Telegram would refuse),
        spaces starts at least half an interval apart, and honours a global 429 pause.
        """
        per_second = self.limits.per_second
        while True:
            now = self.pacer.now()
            starts = self._starts
            while starts and starts[0] <= now - 1.0:
                starts.popleft()
            moments = [now, self.pacer.paused_until]
            if starts:
                moments.append(starts[-1] + 0.5 / per_second)
            if len(starts) >= per_second:
                moments.append(starts[len(starts) - per_second] + 1.0)
            start = max(moments)
            if start <= now:
                starts.append(now)
                return
            await asyncio.sleep(start - now)

    async def _attempt(self, message: OutgoingMessage, target: tuple[int, int] | str | None) -> None:
        oid = message.id or 0
        await self._start_gate()
        if self._at_most_once(message):  # from here on a crash leaves the copy uncertain, never resent
            async with self.uow() as uow:
                await uow.broadcasts.mark_in_flight([oid])
                await uow.commit()
        try:
            if message.kind == OutboxKind.EDIT:
                message_id = message.target_message_id
                if isinstance(target, tuple):
                    message_id = target[1]
                if message_id is None:
                    await self._finish(oid, None, failed="edit target was never delivered")
                    return
                await self.messenger.edit(message, message_id)
                self.stats.edited += 1
                await self._finish(oid, message_id)
            else:
                message_id = await self.messenger.send(message)
                self.stats.sent += 1
                await self._finish(oid, message_id)
        except RetryLater as flood:
            self.stats.retry_after += 1
            self.stats.last_429_at = time.monotonic()
            pause = flood.seconds + random.uniform(0.0, self.limits.jitter)
            self.pacer.pause(message.chat_id, pause)
            self.pacer.pause_all(pause)
            log.warning("429 for chat %s: every send waits %.1fs", message.chat_id, pause)
            await self._retry(message, pause, str(flood), count=False)
        except ChatGone as gone:
            log.warning("chat %s is gone (%s); its queue is dropped", message.chat_id, gone)
            await self._chat_gone(message, str(gone))
        except ChatMoved as moved:
            log.info("chat %s moved to %s; queue follows", message.chat_id, moved.new_chat_id)
            async with self.uow() as uow:
                await uow.chats.migrate(message.chat_id, moved.new_chat_id)
                await uow.commit()
        except Rejected as rejected:
            if message.kind == OutboxKind.EDIT and NOT_MODIFIED in str(rejected):
                await self._finish(oid, message.target_message_id)
                return
            if CHAT_NOT_FOUND in str(rejected).lower():
                log.warning("chat %s not found; its queue is dropped", message.chat_id)
                await self._chat_gone(message, str(rejected))
                return
            self.stats.failed += 1
            log.error("outbox %s to chat %s rejected: %s", oid, message.chat_id, rejected)
            await self._finish(oid, None, failed=str(rejected))
        except Uncertain as unsure:
            if self._at_most_once(message):
                self.stats.uncertain_dropped += 1
                self.stats.failed += 1
                log.warning("broadcast copy %s to chat %s timed out: not resent (%s)", oid, message.chat_id, unsure)
                await self._finish(oid, None, failed=UNCERTAIN_BROADCAST)
                return
            self.stats.uncertain_retries += 1
            await self._retry(message, self._backoff(message), f"uncertain: {unsure}")
        except Unreachable as down:
            waited = self.clock.now() - message.created_at if message.created_at else UNREACHABLE_PATIENCE
            await self._retry(
                message, self._backoff(message), f"unreachable: {down}", count=waited >= UNREACHABLE_PATIENCE
            )

    @staticmethod
    def _backoff(message: OutgoingMessage) -> float:
        return float(min(2 ** max(message.attempts, 0), 60))

    async def _finish(self, outbox_id: int, message_id: int | None, failed: str | None = None) -> None:
        async with self.uow() as uow:
            if failed is None:
                await uow.outbox.mark_sent(outbox_id, message_id, self.clock.now())
            else:
                await uow.outbox.mark_failed(outbox_id, failed, self.clock.now())
            await uow.commit()

    async def _retry(self, message: OutgoingMessage, seconds: float, error: str, count: bool = True) -> None:
        if count and message.attempts + 1 >= MAX_ATTEMPTS:
            self.stats.failed += 1
            await self._finish(message.id or 0, None, failed=f"gave up after {MAX_ATTEMPTS} attempts: {error}")
            return
        async with self.uow() as uow:
            await uow.outbox.retry_later(message.id or 0, self.clock.now() + timedelta(seconds=seconds), error)
            await uow.commit()

    async def _chat_gone(self, message: OutgoingMessage, reason: str) -> None:
        async with self.uow() as uow:
            chat = await uow.chats.get(message.chat_id)
            if chat is not None:
                chat.active = False
                await uow.chats.save(chat)
            if message.chat_id > 0:
                await uow.members.set_private_chat(message.chat_id, False)
            await uow.outbox.mark_failed(message.id or 0, reason, self.clock.now())
            dropped = await uow.outbox.fail_pending_for_chat(message.chat_id, reason, self.clock.now())
            await uow.commit()
        self.stats.failed += 1 + dropped
        if self.on_chat_gone is not None:
            self.on_chat_gone(message.chat_id)
