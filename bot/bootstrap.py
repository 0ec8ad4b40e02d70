"""The only place that builds concrete adapters and wires them together, and runs the bot."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import CommunityRules, Settings, load_rules
from bot.core.classification import Classifier
from bot.core.clock import Clock, SystemClock
from bot.core.ports import TokenRefused
from bot.i18n import Catalog
from bot.inbox import InboxWorker, Poller
from bot.outbox import Limits, OutboxSender
from bot.scheduler import build_scheduler
from bot.services import BotServices, Deps
from bot.services.admin import replay_keyword_changes
from bot.webhook import WebhookServer
from storage.db import create_engine, session_factory, upgrade
from storage.leader import LeaderLock
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15
INSTANCE_NAME = f"{socket.gethostname()}:{os.getpid()}"


def classifier_for(base: Classifier, rules: CommunityRules) -> Classifier:
    """The classifier with the community's taxonomy overrides applied (sharing base's jieba dictionary)."""
    if not rules.taxonomy:
        return base
    with_taxonomy = getattr(base, "with_taxonomy", None)
    if with_taxonomy is None:
        raise ValueError("this classifier cannot take taxonomy overrides")
    try:
        return with_taxonomy(rules.taxonomy)  # type: ignore[no-any-return]
    except ValueError as err:
        raise ValueError(f"taxonomy in the rules file is invalid: {err}") from None


def build_classifier() -> Classifier:
    """The jieba keyword classifier, initialised once at start-up."""
    from nlp.classifier import KeywordClassifier

    return KeywordClassifier()


@dataclass
class Core:
    """The framework-free part of a running bot: database, services, outbox sender."""

    settings: Settings
    engine: AsyncEngine
    uow: SqlUnitOfWorkFactory
    deps: Deps
    services: BotServices
    sender: OutboxSender | None = None


async def build_core(
    settings: Settings,
    *,
    clock: Clock | None = None,
    classifier: Classifier | None = None,
    migrate: bool = True,
) -> Core:
    """Engine (migrated), unit-of-work factory, classifier and services."""
    engine = create_engine(settings.database_url)
    if migrate:
        await upgrade(engine)
    rules = load_rules(settings.rules_file)
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    base = classifier or build_classifier()
    deps = Deps(
        uow=uow,
        classifier=classifier_for(base, rules),
        clock=clock or SystemClock(),
        texts=Catalog(settings.locale),
        rules=rules,
        admin_ids=frozenset(settings.admin_ids),
        timezone=settings.timezone,
        rules_path=settings.rules_file,
        classifier_factory=lambda new_rules: classifier_for(base, new_rules),
    )
    async with uow() as unit:  # the community row exists (committed) before any use case caches it
        deps.community = await unit.communities.default()
        deps.classifier = await replay_keyword_changes(unit, deps.classifier)
        await unit.commit()
    return Core(settings, engine, uow, deps, BotServices(deps))


def build_adapter(settings: Settings, services: BotServices) -> Any:
    """The chat-framework adapter named by BOT_FRAMEWORK (aiogram by default, or ptb)."""
    if settings.bot_framework == "ptb":
        from handlers.ptb_app.app import PtbAdapter

        return PtbAdapter(settings.token(), settings.telegram_api_url, services, settings.send_timeout)
    from handlers.aiogram_app.app import AiogramAdapter

    return AiogramAdapter(settings.token(), settings.telegram_api_url, services, settings.send_timeout)


@dataclass
class BotRunner:
    """A running bot: poller → inbox → dispatcher → services → outbox → sender, plus the scheduler."""

    core: Core
    limits: Limits = field(default_factory=Limits)
    adapter: Any = None
    webhook: WebhookServer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Connect to the Bot API and start every loop."""
        settings, core = self.core.settings, self.core
        self.adapter = build_adapter(settings, core.services)
        profile = await self._get_profile()
        core.deps.profile.username = profile.username
        core.deps.profile.can_read_all_group_messages = profile.can_read_all_group_messages
        core.deps.download = self.adapter.messenger.download
        self.leader = LeaderLock(core.engine)
        self.sender = OutboxSender(
            core.uow, self.adapter.messenger, core.deps.clock, self.limits, leader=self.leader.ensure
        )
        core.sender = self.sender
        self.worker = InboxWorker(
            core.uow,
            core.deps.clock,
            self.adapter.handle,
            core.services.note_update_handled,
            on_dead_letter=core.services.report_dead_letter,
        )
        self.poller = Poller(self.adapter, core.uow, core.deps.clock, self.worker.notify, settings.poll_timeout)
        core.uow.on_outbox = self.sender.notify
        jobs = {
            "outbox_sweep": (self._sweep, 30),
            "heartbeat": (self._heartbeat, HEARTBEAT_SECONDS),
        }
        for name, (_, seconds) in core.services.sweeps.items():
            jobs[name] = (functools.partial(self.run_sweep, name), seconds)
        self.scheduler = build_scheduler(settings.timezone, jobs)
        self.scheduler.start()
        loops = [("sender", self.sender.run()), ("inbox", self.worker.run())]
        if settings.run_mode == "webhook":
            await self._start_webhook()
        else:
            loops.append(("poller", self.poller.run()))
        for name, coro in loops:
            self.tasks.append(asyncio.create_task(coro, name=name))
        await self._heartbeat()
        self.tasks.append(asyncio.create_task(self._first_reminder_sweep(), name="first_reminder_sweep"))
        # Everything built so far (jieba's dictionary above all) lives as long as the process: keep it
        # out of the garbage collector's full passes, which otherwise pause the loop for tens of ms.
        gc.freeze()
        log.info("bot @%s is running (%s, %s)", profile.username, settings.bot_framework, settings.run_mode)

    async def _start_webhook(self) -> None:
        settings = self.core.settings
        if not settings.webhook_url or settings.webhook_secret is None:
            raise SystemExit("RUN_MODE=webhook needs WEBHOOK_URL and WEBHOOK_SECRET (see .env.example)")
        secret = settings.webhook_secret.get_secret_value()
        self.webhook = WebhookServer(self.core.uow, self.core.deps.clock, secret, self.worker.notify)
        port = await self.webhook.start(settings.webhook_host, settings.webhook_port)
        await self.adapter.set_webhook(settings.webhook_url, secret)
        log.info("webhook listening on %s:%s", settings.webhook_host, port)

    async def _get_profile(self) -> Any:
        descriptions = {name: self.core.deps.texts.t(f"commands.{name}") for name in self.core.services.command_names}
        delay = 1.0
        while True:
            try:
                return await self.adapter.start(descriptions)
            except TokenRefused:
                raise SystemExit("Telegram refused the token (401 Unauthorized): check BOT_TOKEN") from None
            except Exception as err:
                log.warning("cannot reach the Bot API yet (%s); retrying in %.0fs", type(err).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    async def _heartbeat(self) -> None:
        """Record this instance's loops as alive, with the figures /status and `status` show."""
        loop_time = asyncio.get_running_loop().time()
        poll_ok = self.poller.last_poll_ok
        detail = {
            "poll_age": round(loop_time - poll_ok, 1) if poll_ok is not None else None,
            "processed": self.worker.processed,
            "sent": self.sender.stats.sent,
            "retry_after": self.sender.stats.retry_after,
            "uncertain_retries": self.sender.stats.uncertain_retries,
            "leader": self.leader.held,
            "mode": self.core.settings.run_mode,
        }
        async with self.core.uow() as uow:
            await uow.heartbeats.beat(INSTANCE_NAME, self.core.deps.clock.now(), detail)
            await uow.commit()

    async def run_sweep(self, name: str) -> None:
        """Run one scheduled sweep (reminders, digests …) on the leader only, so two instances never both act."""
        if not await self.leader.ensure():
            return
        func, _ = self.core.services.sweeps[name]
        try:
            await func(self.core.engine.dialect.name == "postgresql")
        except Exception:
            log.exception("%s failed; the next one retries", name)

    async def sweep_reminders(self) -> None:
        """Send due reminders and escalations now (leader only)."""
        await self.run_sweep("reminder_sweep")

    async def _first_reminder_sweep(self) -> None:
        """Whatever fell due while the bot was down (reminders, digests …) goes out at start-up, once."""
        for name in self.core.services.sweeps:
            await self.run_sweep(name)

    async def _sweep(self) -> None:
        self.sender.notify()
        self.worker.notify()

    async def stop(self) -> None:
        """Stop polling, finish the update in hand and the sends in flight, close connections."""
        if self.webhook is not None:
            with contextlib.suppress(Exception):
                await self.adapter.delete_webhook()
            await self.webhook.stop()
        self.poller.stop()
        self.worker.stop()
        self.sender.stop()
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=False)
        poller_task = next((t for t in self.tasks if t.get_name() == "poller"), None)
        if poller_task is not None:
            poller_task.cancel()
        done = await asyncio.gather(*self.tasks, return_exceptions=True)
        for result in done:
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                log.error("loop ended with %r", result)
        if self.adapter is not None:
            await self.adapter.close()
        await self.leader.release()
        await self.core.engine.dispose()


async def run_bot(settings: Settings, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (SIGINT/SIGTERM in the CLI)."""
    core = await build_core(settings)
    runner = BotRunner(core)
    start = asyncio.create_task(runner.start())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({start, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if not start.done():
        start.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await start
        await core.engine.dispose()
        return
    start.result()
    await stop.wait()
    log.info("stopping…")
    await runner.stop()
