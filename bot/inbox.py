"""Durable intake: updates are committed to the inbox before Telegram is told we have them,
then handled from the inbox in order. A repeated update id changes nothing; an update that fails
three times is parked as a dead letter so the rest keep flowing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.clock import Clock
from bot.core.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BATCH_SIZE = 50
BATCH_SECONDS = 0.05


class UpdateSource(Protocol):
    """Fetches raw updates from Telegram (getUpdates) without confirming any it was not asked to."""

    async def fetch(self, offset: int | None, poll_seconds: int) -> Sequence[tuple[int, str]]:
        """Updates with id ≥ offset as (update_id, raw JSON); confirms those below offset."""
        ...


UpdateHandler = Callable[[int, str], Awaitable[None]]


@dataclass(slots=True)
class Poller:
    """Long-polls Telegram and commits every update to the inbox before asking for the next offset."""

    source: UpdateSource
    uow: UnitOfWorkFactory
    clock: Clock
    on_stored: Callable[[], None]
    timeout: int = 25
    last_poll_ok: float | None = None
    _stopping: bool = False

    async def run(self) -> None:
        """Poll until stopped; network failures back off and retry, nothing is confirmed unstored."""
        async with self.uow() as uow:
            last = await uow.inbox.last_update_id()
        offset = last + 1 if last is not None else None
        failures = 0
        while not self._stopping:
            try:
                updates = await self.source.fetch(offset, self.timeout)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                failures += 1
                delay = min(2**failures, 30)
                log.warning("getUpdates failed (%s); retrying in %ss", type(err).__name__, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            self.last_poll_ok = asyncio.get_running_loop().time()
            if not updates:
                continue
            async with self.uow() as uow:
                fresh = await uow.inbox.store(updates, self.clock.now())
                await uow.commit()
            offset = max(uid for uid, _ in updates) + 1
            if fresh:
                self.on_stored()

    def stop(self) -> None:
        """Stop after the current long poll."""
        self._stopping = True


@dataclass(slots=True)
class InboxWorker:
    """Handles stored updates one at a time, in update order."""

    uow: UnitOfWorkFactory
    clock: Clock
    handle: UpdateHandler
    mark_handled: Callable[[int], Awaitable[None]]
    on_dead_letter: Callable[[int, str], Awaitable[None]] | None = None
    batch_size: int = BATCH_SIZE
    processed: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False

    def notify(self) -> None:
        """Wake the worker: new updates were stored."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current update, then stop."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Work through the inbox until stopped."""
        while not self._stopping:
            self._wake.clear()
            try:
                handled_any = await self.drain_once()
            except Exception:
                log.exception("inbox batch failed; it is retried")
                await asyncio.sleep(1.0)
                continue
            if not handled_any and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=5.0)

    async def drain_once(self) -> bool:
        """Handle a batch of stored updates in one transaction; returns whether any were found.

        The batch's rows are locked (other instances skip them); each update runs in its own
        savepoint, so one failure does not undo the others; the batch stops early after
        BATCH_SECONDS so replies are never held back long.
        """
        batched = getattr(self.uow, "batch", None)
        if batched is None or self.batch_size <= 1:
            async with self.uow() as uow:
                pending = await uow.inbox.unhandled(1)
            await self._handle_all(pending)
            return bool(pending)
        async with batched():
            async with self.uow() as uow:
                pending = await uow.inbox.unhandled(self.batch_size, lock=True)
                await uow.commit()
            await self._handle_all(pending)
        return bool(pending)

    async def _handle_all(self, pending: list[tuple[int, str, int]]) -> None:
        deadline = asyncio.get_running_loop().time() + BATCH_SECONDS
        for update_id, raw, attempts in pending:
            if self._stopping or asyncio.get_running_loop().time() > deadline:
                break
            try:
                await self.handle(update_id, raw)
                await self.mark_handled(update_id)
                self.processed += 1
            except asyncio.CancelledError:
                raise
            except Exception as err:
                dead = attempts + 1 >= MAX_ATTEMPTS
                log.exception("update %s failed (attempt %s%s)", update_id, attempts + 1, ", parked" if dead else "")
                async with self.uow() as uow:
                    await uow.inbox.record_failure(update_id, f"{type(err).__name__}: {err}", dead, self.clock.now())
                    await uow.commit()
                if dead and self.on_dead_letter is not None:
                    await self.on_dead_letter(update_id, type(err).__name__)
