"""The outbox sender: delivers queued messages within Telegram's limits and records each delivery.

Limits kept (Telegram's, with a margin): at most 25 messages/s overall, 1 message/s per chat and
18 messages per minute per group. A 429 pauses that chat for ``retry_after``; a 403 marks the chat
inactive and drops its queue; a migrated group moves its queue to the new id.

A send that timed out after the request left is *uncertain*: Telegram has no idempotency key, so
retrying may deliver twice and not retrying may lose the message. We retry (at-least-once): a resident
who sees a case card twice is better served than one who never sees it. Such retries are counted in
``SenderStats.uncertain_retries`` so duplicates can be reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.model import OutboxKind, OutboxStatus, OutgoingMessage
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
NOT_MODIFIED = "message is not modified"


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's sending limits, with a safety margin."""

    per_second: int = 25
    per_chat_interval: float = 1.0
    per_group_per_minute: int = 18


@dataclass(slots=True)
class SenderStats:
    """Counters for /status, health checks and benchmarks."""

    sent: int = 0
    edited: int = 0
    failed: int = 0
    retry_after: int = 0
    uncertain_retries: int = 0
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

    def ready_at(self, chat_id: int) -> float:
        """The earliest moment a message to ``chat_id`` keeps every limit."""
        now = self.now()
        moments = [now, self._paused.get(chat_id, 0.0)]
        last = self._chat_last.get(chat_id)
        if last is not None:
            moments.append(last + self.limits.per_chat_interval)
        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        if len(self._global) >= self.limits.per_second:
            moments.append(self._global[0] + 1.0)
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
        self._slots = asyncio.Semaphore(self.concurrency)

    def notify(self) -> None:
        """Wake the sender: something was committed to the outbox."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stopped; finishes the sends already in flight before returning."""
        while not self._stopping:
            self._wake.clear()
            if self.leader is not None and not await self.leader():
                await asyncio.sleep(2.0)  # another instance sends; take over if it goes away
                continue
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
        """Start every send whose chat is ready; returns how long to sleep before the next pass."""
        now = self.clock.now()
        async with self.uow() as uow:
            due = await uow.outbox.due(now, 500)
            targets: dict[int, tuple[int, int] | str | None] = {}
            for message in due:
                if message.kind == OutboxKind.EDIT and message.edit_of is not None:
                    targets[message.id or 0] = await self._edit_target(uow, message.edit_of)
        wait = self.idle_poll
        held: set[int] = set()
        for message in due:
            chat = message.chat_id
            if chat in held or chat in self._in_flight:
                held.add(chat)  # strict order within a chat: nothing overtakes an earlier message
                continue
            target = targets.get(message.id or 0)
            if target == "waiting":
                held.add(chat)
                wait = min(wait, 0.2)
                continue
            ready = self.pacer.ready_at(chat)
            lag = ready - self.pacer.now()
            if lag > 0:
                held.add(chat)
                wait = min(wait, lag)
                continue
            self.pacer.record(chat)
            held.add(chat)
            self._in_flight[chat] = asyncio.create_task(self._deliver(message, target))
        return max(wait, 0.01)

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
            self._wake.set()

    async def _attempt(self, message: OutgoingMessage, target: tuple[int, int] | str | None) -> None:
        oid = message.id or 0
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
            self.pacer.pause(message.chat_id, flood.seconds)
            log.warning("429 for chat %s: waiting %.0fs", message.chat_id, flood.seconds)
            await self._retry(message, flood.seconds, str(flood), count=False)
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
            self.stats.failed += 1
            log.error("outbox %s to chat %s rejected: %s", oid, message.chat_id, rejected)
            await self._finish(oid, None, failed=str(rejected))
        except Uncertain as unsure:
            self.stats.uncertain_retries += 1
            await self._retry(message, self._backoff(message), f"uncertain: {unsure}")
        except Unreachable as down:
            await self._retry(message, self._backoff(message), f"unreachable: {down}")

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
