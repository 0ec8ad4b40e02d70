"""The say-it wall and echo board (说事墙 · 回音壁), their scheduled digests, rating reminders, monthly return
visits (月回访), staff reports (周调度、月度、季度) and exports, as one Feature.

Everything public is masked: reporters appear as "3栋住户", phone/ID/plate/room numbers and roster names are
hidden, and a dispute (邻里纠纷) shows no details at all. Schedules are kept as slots in ``wall_slots``: a
sweep posts a digest only when its slot has passed since the last one handled, and only if the board
changed since it was last posted in that chat, so a restart or an unchanged board never posts twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.core.callbacks import CallbackData
from bot.core.charts import ChartFontMissing
from bot.core.classification import Classification
from bot.core.errors import BadInput, NotFound, PermissionDenied
from bot.core.events import ButtonPress, Command, IncomingMessage, PressAnswer
from bot.core.model import (
    PRIORITY_DIGEST,
    PRIORITY_LIVE,
    Button,
    Case,
    CaseEvent,
    Chat,
    ChatKind,
    Dialogue,
    MediaKind,
    Member,
    OutboxKind,
    OutgoingMessage,
)
from bot.core.ports import FILE_PREFIX, UnitOfWork
from bot.core.privacy import mask_text, shorten
from bot.core.schedule import (
    PERIOD_KINDS,
    PeriodKind,
    daily,
    latest_slot,
    local_range_utc,
    on_month_day,
    on_quarter_start,
    on_weekday,
    previous_period,
)
from bot.core.wall import WallSlot
from bot.services.base import Deps
from bot.services.cases import CaseService
from bot.services.export import FORMATS, SUFFIX, CaseExport, ExportFormat, parse_range
from bot.services.feature import CommandHandler, DialogueHandler, Feature, PressHandler, Sweep
from bot.services.intake import IntakeService
from bot.services.reports import ReportWriter

log = logging.getLogger(__name__)

RATE_COMMENT = "rate_comment"
NAMED_WORDS = {"on": True, "公开": True, "署名": True, "off": False, "匿名": False, "不公开": False}
WALL, ECHO = "wall", "echo"
SUMMARY_LIMIT = 28
#: Follow-ups (rating reminders, return visits) wait for daytime, community time.
DAY_START, DAY_END = 8, 21
PERIOD_WORDS: dict[str, PeriodKind] = {
    "week": "week", "周": "week", "周调度": "week", "month": "month", "月": "month", "quarter": "quarter", "季": "quarter",
}


#: How long generated charts and exports stay on disk (the outbox uploads them within seconds).
FILE_KEEP_SECONDS = 24 * 3600


@dataclass(slots=True)
class Board:
    """One page of a board, ready to post, with the fingerprint of the whole board."""

    text: str
    buttons: list[list[Button]]
    fingerprint: str
    empty: bool


class WallService(Feature):
    """/wall, /echo, /report, /export; paging, return-visit answers, rating comments; the scheduled sweeps."""

    def __init__(
        self, deps: Deps, cases: CaseService, intake: IntakeService, files_dir: Path | None = None
    ) -> None:
        super().__init__(deps)
        self.cases = cases
        self.intake = intake
        self.reports = ReportWriter(deps)
        self.export = CaseExport(deps)
        self.files_dir = files_dir or Path(tempfile.gettempdir()) / "residents-bot"

    def _new_file(self, name: str) -> Path:
        """Where to write a chart or export for the outbox to upload; files older than a day are removed
        first (exports hold residents' words and phone numbers: they must not pile up on disk)."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        stale = time.time() - FILE_KEEP_SECONDS
        for old in self.files_dir.iterdir():
            with contextlib.suppress(OSError):
                if old.is_file() and old.stat().st_mtime < stale:
                    old.unlink()
        return self.files_dir / name

    def commands(self) -> dict[str, CommandHandler]:
        """/wall, /echo, /reports, /export, /named (/report is the residents' guided report, issue 10)."""
        return {
            "wall": self._wall,
            "echo": self._echo,
            "reports": self._report,
            "export": self._export,
            "named": self._named,
        }

    def presses(self) -> dict[str, PressHandler]:
        """Board paging and the return-visit answers."""
        return {"wallpage": self.turn_page, "visit": self.answer_visit}

    def dialogues(self) -> dict[str, DialogueHandler]:
        """The optional comment after a rating."""
        return {RATE_COMMENT: self.take_rating_comment}

    def sweeps(self) -> dict[str, tuple[Sweep, int]]:
        """One sweep a minute: digests, rating reminders, return visits, reports."""
        return {"wall_sweep": (lambda lock: self.sweep(lock=lock), 60)}

    # ---- boards --------------------------------------------------------------------------------

    async def _scope(self, uow: UnitOfWork, member: Member | None, chat: Chat) -> tuple[list[int] | None, str]:
        """Which buildings a chat's board shows (None: the whole community) and the scope's name; ``member``
        is who asks (None for a scheduled digest)."""
        if chat.kind == ChatKind.BUILDING and chat.building_id is not None:
            building = await uow.buildings.get(chat.building_id)
            return [chat.building_id], building.name if building else ""
        community = await self.community(uow)
        if chat.kind in (ChatKind.ADMIN, ChatKind.STAFF):
            return None, community.name
        if chat.kind == ChatKind.PRIVATE and member is not None and (member.is_staff or self.is_admin(member)):
            return None, community.name
        raise BadInput("wall.where")

    def _summary(self, case: Case, names: list[str]) -> str:
        if case.category == "dispute":
            return self.t("case.dispute_hidden")
        return shorten(mask_text(case.text, names), SUMMARY_LIMIT)

    def _reporter(self, case: Case, building: str, named: set[int]) -> str:
        """"3栋住户", or the reporter's name when they chose to be named (never for a dispute)."""
        if case.reporter_id in named and case.category != "dispute":
            return self.t("wall.reporter_named", name=case.reporter_name, building=building or "-")
        return self.t("wall.reporter", building=building) if building else self.t("case.reporter_masked")

    async def _named(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        """/named on|off: whether the wall shows the member's name on their cases instead of "3栋住户"."""
        word = cmd.args.strip().lower()
        if word not in NAMED_WORDS:
            raise BadInput("wall.named_usage")
        named = NAMED_WORDS[word]
        await uow.wall.set_named(member.user_id, named, self.deps.clock.now())
        return self.t("wall.named_on" if named else "wall.named_off")

    async def board(
        self, uow: UnitOfWork, building_ids: list[int] | None, scope: str, kind: str, page: int
    ) -> Board:
        """A page of the say-it wall (open cases) or the echo board (recently resolved), masked."""
        community = await self.community(uow)
        now = self.deps.clock.now()
        rules = self.deps.rules.wall
        if kind == WALL:
            cases = await uow.wall.open_cases(community.id, building_ids)
        else:
            cases = await uow.wall.resolved_since(community.id, building_ids, now - timedelta(days=rules.echo_days))
        plus = await uow.wall.supporter_counts([c.id or 0 for c in cases])
        named = await uow.wall.named_reporters(sorted({c.reporter_id for c in cases})) if kind == WALL else set()
        places = await uow.wall.grid_names(community.id)
        names = await self.known_names(uow, cases)
        pages = max((len(cases) + rules.page_size - 1) // rules.page_size, 1)
        page = min(max(page, 1), pages)
        shown = cases[(page - 1) * rules.page_size : page * rules.page_size]
        lines = []
        for case in shown:
            building = places.get(case.building_id or 0, ("", None))[0]
            where = f" · {building}" if building_ids is None and building else ""
            count = plus.get(case.id or 0, 0)
            if kind == WALL:
                lines.append(
                    self.t(
                        "wall.line",
                        number=case.number,
                        category=self.category_name(case.category),
                        where=where,
                        summary=self._summary(case, names),
                        reporter=self._reporter(case, building, named),
                        status=self.t(f"state.{case.status.value}"),
                        age=self.deps.texts.duration((now - case.created_at).total_seconds()),
                        plus=self.t("wall.plus", count=count) if count else "",
                    )
                )
            else:
                took = (case.resolved_at or case.updated_at) - case.created_at
                note = self.t("echo.dispute_note") if case.category == "dispute" else shorten(
                    mask_text(case.resolution_note or "", names), SUMMARY_LIMIT
                )
                lines.append(
                    self.t(
                        "echo.line",
                        number=case.number,
                        category=self.category_name(case.category),
                        where=where,
                        summary=self._summary(case, names),
                        note=note,
                        took=self.deps.texts.duration(took.total_seconds()),
                        rating=self.t(f"echo.rating_{case.rating}") if case.rating else "",
                    )
                )
        if kind == WALL:
            head = self.t("wall.head", scope=scope, count=len(cases))
            empty_line = self.t("wall.empty")
        else:
            head = self.t("echo.head", scope=scope, days=rules.echo_days, count=len(cases))
            empty_line = self.t("echo.empty")
        if pages > 1:
            head += " " + self.t("wall.page", page=page, pages=pages)
        text = "\n".join([head, *(lines or [empty_line])])
        row = []
        if page > 1:
            row.append(Button(self.t("wall.prev"), CallbackData("wallpage", page - 1, kind).pack()))
        if page < pages:
            row.append(Button(self.t("wall.next"), CallbackData("wallpage", page + 1, kind).pack()))
        state = sorted((c.number, c.status.value, plus.get(c.id or 0, 0), c.rating or "") for c in cases)
        fingerprint = hashlib.sha256(f"{kind}:{state}".encode()).hexdigest()[:32]
        return Board(text, [row] if row else [], fingerprint, not cases)

    async def _wall(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> None:
        await self._post_board(uow, member, chat, cmd, WALL)

    async def _echo(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> None:
        await self._post_board(uow, member, chat, cmd, ECHO)

    async def _post_board(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command, kind: str) -> None:
        """/wall and /echo: page 1 of the chat's board, with paging buttons when it is long."""
        building_ids, scope = await self._scope(uow, member, chat)
        board = await self.board(uow, building_ids, scope, kind, 1)
        await self.queue(uow, chat.chat_id, board.text, reply_to=cmd.message_id, buttons=board.buttons)

    async def turn_page(self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData) -> PressAnswer:
        """[上一页]/[下一页]: edit the board message in place; the scope comes from the chat, not the button."""
        if data.arg not in (WALL, ECHO):
            raise BadInput("error.bad_button")
        chat = await uow.chats.get(press.chat.chat_id)
        if chat is None:
            raise BadInput("error.bad_button")
        building_ids, scope = await self._scope(uow, member, chat)
        board = await self.board(uow, building_ids, scope, data.arg, data.target_id)
        await uow.outbox.add(
            OutgoingMessage(
                chat_id=chat.chat_id,
                text=board.text,
                kind=OutboxKind.EDIT,
                buttons=board.buttons,
                target_message_id=press.message_id,
                created_at=self.deps.clock.now(),
            )
        )
        return PressAnswer()

    # ---- digests -------------------------------------------------------------------------------

    def _digest_slot(self, chat: Chat, now: datetime) -> tuple[datetime | None, bool]:
        """The latest digest slot of a chat that has passed, and whether it is the weekly one."""
        rules = self.deps.rules.wall
        weekly = (
            latest_slot(now, self.tz, rules.weekly_digest, on_weekday(rules.weekly_digest_weekday))
            if rules.weekly_digest
            else None
        )
        day = None
        if chat.kind == ChatKind.BUILDING and rules.daily_digest:
            day = latest_slot(now, self.tz, rules.daily_digest, daily)
        if weekly is not None and (day is None or weekly >= day):
            return weekly, True
        return day, False

    async def post_digests(self) -> int:
        """Post the due digests (daily in building groups, weekly there and in the admin groups) whose board
        changed since last posted there; returns how many were posted."""
        posted = 0
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            community = await self.community(uow)
            chats = await uow.chats.of_kind(community.id, ChatKind.BUILDING)
            chats += await uow.chats.of_kind(community.id, ChatKind.ADMIN)
            for chat in chats:
                if chat.kind == ChatKind.BUILDING and chat.building_id is None:
                    continue
                slot_at, weekly = self._digest_slot(chat, now)
                if slot_at is None:
                    continue
                key = f"digest:{chat.chat_id}"
                state = await uow.wall.slot(key)
                if state is None:  # start keeping time: the first digest comes at the next slot
                    await uow.wall.save_slot(WallSlot(key, slot_at))
                    continue
                if slot_at <= state.slot_at:
                    continue
                state.slot_at = slot_at
                if await self._post_digest(uow, chat, state, weekly):
                    posted += 1
                await uow.wall.save_slot(state)
            await uow.commit()
        return posted

    async def _post_digest(self, uow: UnitOfWork, chat: Chat, state: WallSlot, weekly: bool) -> bool:
        building_ids, scope = await self._scope(uow, None, chat)
        wall = await self.board(uow, building_ids, scope, WALL, 1)
        echo = await self.board(uow, building_ids, scope, ECHO, 1)
        fingerprint = hashlib.sha256((wall.fingerprint + echo.fingerprint).encode()).hexdigest()[:32]
        if fingerprint == state.fingerprint or (state.fingerprint is None and wall.empty and echo.empty):
            return False
        head = self.t("wall.digest_weekly" if weekly else "wall.digest_daily", date=self.local_time(self.deps.clock.now())[:5])
        text = "\n\n".join([head, wall.text, echo.text])
        buttons = [row for row in wall.buttons + echo.buttons]
        await self.queue(uow, chat.chat_id, text, buttons=buttons, priority=PRIORITY_DIGEST)
        state.fingerprint, state.posted_at = fingerprint, self.deps.clock.now()
        return True

    # ---- ratings: comment and reminder ---------------------------------------------------------

    async def take_rating_comment(
        self, uow: UnitOfWork, member: Member, chat: Chat, dialogue: Dialogue, event: IncomingMessage
    ) -> None:
        """The reporter's optional comment after 基本满意/不满意: taken only as a reply to the prompt; any
        other message ends the wait and is handled as usual."""
        await uow.dialogues.delete(dialogue.chat_id, dialogue.user_id)
        prompt = await uow.outbox.message_id_of(dialogue.prompt_outbox_id or 0)
        if prompt is None or event.reply_to_message_id != prompt[1] or not event.text.strip():
            await self.intake.take_message(uow, event)
            return
        case = await uow.cases.get(dialogue.case_id or 0)
        if case is None:
            return
        note = shorten(event.text, 300)
        await uow.cases.add_event(CaseEvent(case.id or 0, self.deps.clock.now(), "rating_comment", member.user_id, member.name, note))
        await self.queue(uow, chat.chat_id, self.t("echo.comment_thanks", number=case.number), reply_to=event.message_id)

    def rating_buttons(self, case_id: int) -> list[list[Button]]:
        """[满意] [基本满意] [不满意] for a resolved case."""
        return [
            [
                Button(self.t("button.satisfied"), CallbackData("rate", case_id, "good").pack()),
                Button(self.t("echo.button_basic"), CallbackData("rate", case_id, "ok").pack()),
                Button(self.t("button.unsatisfied"), CallbackData("rate", case_id, "bad").pack()),
            ]
        ]

    def _daytime(self, now: datetime) -> bool:
        return DAY_START <= now.astimezone(self.tz).hour < DAY_END

    async def remind_ratings(self) -> int:
        """One reminder, in the case's group, for each case resolved but not rated within the configured days."""
        now = self.deps.clock.now()
        if not self._daytime(now):
            return 0
        before = now - timedelta(days=self.deps.rules.wall.rating_reminder_days)
        async with self.deps.uow() as uow:
            cases = await uow.wall.unrated_resolved(before)
            for case in cases:
                followup = await uow.wall.followup(case.id or 0)
                followup.rating_reminded_at = now
                await uow.wall.save_followup(followup)
                text = self.t("echo.rate_reminder", number=case.number, category=self.category_name(case.category))
                await self.queue(
                    uow, case.chat_id, text, reply_to=case.message_id, buttons=self.rating_buttons(case.id or 0),
                    priority=PRIORITY_DIGEST,
                )
            await uow.commit()
        return len(cases)

    # ---- return visits (月回访) -----------------------------------------------------------------

    async def visit_last_month(self) -> int:
        """On the configured day each month, ask the reporters of last month's resolved cases whether the
        problem is still there: [已解决] [又出现了]."""
        rules = self.deps.rules.wall
        now = self.deps.clock.now()
        slot_at = latest_slot(now, self.tz, rules.return_visit_time, on_month_day(rules.return_visit_day))
        if slot_at is None:
            return 0
        asked = 0
        async with self.deps.uow() as uow:
            state = await uow.wall.slot("visit:month")
            if state is not None and slot_at <= state.slot_at:
                return 0
            if state is not None:
                first, end = previous_period("month", slot_at.astimezone(self.tz).date())
                start_utc, end_utc = local_range_utc(first, end, self.tz)
                for case in await uow.wall.due_for_visit(start_utc, end_utc):
                    await self._ask_visit(uow, case, now)
                    asked += 1
            await uow.wall.save_slot(WallSlot("visit:month", slot_at, None, now))
            await uow.commit()
        return asked

    async def _ask_visit(self, uow: UnitOfWork, case: Case, now: datetime) -> None:
        followup = await uow.wall.followup(case.id or 0)
        followup.visit_asked_at = now
        await uow.wall.save_followup(followup)
        cid = case.id or 0
        buttons = [
            [
                Button(self.t("visit.button_ok"), CallbackData("visit", cid, "ok").pack()),
                Button(self.t("visit.button_again"), CallbackData("visit", cid, "again").pack()),
            ]
        ]
        text = self.t("visit.ask", number=case.number, category=self.category_name(case.category))
        await self.queue(uow, case.chat_id, text, reply_to=case.message_id, buttons=buttons, priority=PRIORITY_DIGEST)

    async def answer_visit(self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData) -> PressAnswer:
        """[已解决] records the answer; [又出现了] opens a new case linked to the old one. Reporter only, once."""
        if data.arg not in ("ok", "again"):
            raise BadInput("error.bad_button")
        case = await uow.cases.get(data.target_id, for_update=True)
        if case is None:
            raise NotFound("error.case_not_found")
        if case.reporter_id != member.user_id:
            raise PermissionDenied("visit.not_reporter")
        followup = await uow.wall.followup(case.id or 0)
        if followup.visit_asked_at is None or followup.visit_answer is not None:
            raise BadInput("visit.already")
        now = self.deps.clock.now()
        followup.visit_answer, followup.visit_answered_at = data.arg, now
        if data.arg == "ok":
            await uow.cases.add_event(CaseEvent(case.id or 0, now, "revisit_ok", member.user_id, member.name))
            line = self.t("visit.answered_ok")
        else:
            chat = await uow.chats.get(case.chat_id)
            if chat is None or not chat.active:
                raise NotFound("visit.chat_gone")
            verdict = Classification(case.text, case.category, case.urgent, 1.0, case.keywords, "revisit")
            community = await self.community(uow)
            text = self.t("visit.linked_text", number=case.number) + case.text
            # the new card replies to the original report, when there is one
            linked = await self.cases.open_case(uow, community, chat, member, case.message_id, text, verdict)  # type: ignore[arg-type]
            followup.linked_case_id = linked.id
            await uow.cases.add_event(
                CaseEvent(case.id or 0, now, "revisit_again", member.user_id, member.name, f"#{linked.number}")
            )
            line = self.t("visit.answered_again", number=linked.number)
        await uow.wall.save_followup(followup)
        original = self.t("visit.ask", number=case.number, category=self.category_name(case.category))
        await uow.outbox.add(
            OutgoingMessage(
                chat_id=press.chat.chat_id, text=original + "\n" + line, kind=OutboxKind.EDIT,
                target_message_id=press.message_id, created_at=now,
            )
        )
        return PressAnswer(self.t("visit.thanks"))

    # ---- reports and exports (staff) -----------------------------------------------------------

    def _require_admin_place(self, member: Member, chat: Chat) -> None:
        if not self.is_admin(member):
            raise PermissionDenied("error.admin_only")
        if chat.kind not in (ChatKind.ADMIN, ChatKind.PRIVATE, ChatKind.STAFF):
            raise BadInput("report.where")

    async def queue_report(
        self, uow: UnitOfWork, chat_id: int, kind: PeriodKind, reply_to: int | None = None, priority: int = PRIORITY_DIGEST
    ) -> None:
        """Queue the last complete period's report in a chat: the text, then the chart image."""
        first, _ = previous_period(kind, self.deps.clock.now().astimezone(self.tz).date())
        report = await self.reports.report_for(uow, kind, first)
        text = self.reports.text(report)
        try:
            chart = self.reports.chart(report, self._new_file(f"report-{kind}-{first.isoformat()}-{chat_id}.png"))
        except ChartFontMissing as missing:
            log.error("report chart not drawn: %s", missing)
            await self.queue(uow, chat_id, text + "\n" + self.t("report.no_font"), reply_to=reply_to, priority=priority)
            return
        await self.queue(uow, chat_id, text, reply_to=reply_to, priority=priority)
        await self.queue(
            uow, chat_id, self.t("report.chart_caption", start=first.isoformat()),
            media_kind=MediaKind.PHOTO, media=FILE_PREFIX + str(chart), priority=priority,
        )

    async def _report(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> None:
        """/report [week|month|quarter]: the last complete period, admins only, in staff places."""
        self._require_admin_place(member, chat)
        word = cmd.args.strip().lower() or "week"
        if word not in PERIOD_WORDS:
            raise BadInput("report.usage")
        await self.queue_report(uow, chat.chat_id, PERIOD_WORDS[word], reply_to=cmd.message_id, priority=PRIORITY_LIVE)

    async def post_reports(self) -> int:
        """Weekly dispatch every Monday morning, monthly and quarterly summaries on their first day, in the
        admin groups; each slot once."""
        rules = self.deps.rules.wall
        now = self.deps.clock.now()
        schedules = {
            "week": on_weekday(rules.weekly_report_weekday),
            "month": on_month_day(1),
            "quarter": on_quarter_start,
        }
        posted = 0
        async with self.deps.uow() as uow:
            community = await self.community(uow)
            admins = await uow.chats.of_kind(community.id, ChatKind.ADMIN)
            for kind in PERIOD_KINDS:
                slot_at = latest_slot(now, self.tz, rules.report_time, schedules[kind])
                if slot_at is None:
                    continue
                key = f"report:{kind}"
                state = await uow.wall.slot(key)
                if state is not None and slot_at <= state.slot_at:
                    continue
                if state is not None:
                    for chat in admins:
                        await self.queue_report(uow, chat.chat_id, kind)
                        posted += 1
                await uow.wall.save_slot(WallSlot(key, slot_at, None, now))
            await uow.commit()
        return posted

    async def _export(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str | None:
        """/export 2026-10 [xlsx|csv|open311]: the range's cases with their history, as a file."""
        self._require_admin_place(member, chat)
        words = cmd.args.split()
        fmt: ExportFormat = "xlsx"
        if words and words[-1].lower() in FORMATS:
            fmt = words.pop().lower()  # type: ignore[assignment]
        if not words:
            raise BadInput("export.usage")
        span = parse_range(" ".join(words))
        name = f"cases-{span.first.isoformat()}-{span.last.isoformat()}-{cmd.message_id}{SUFFIX[fmt]}"
        path = self._new_file(name)
        count = await self.export.write(uow, span, fmt, path)
        if not count:
            return self.t("export.none", start=span.first.isoformat(), end=span.last.isoformat())
        await self.queue(
            uow, chat.chat_id,
            self.t("export.done", count=count, start=span.first.isoformat(), end=span.last.isoformat()),
            reply_to=cmd.message_id, media_kind=MediaKind.DOCUMENT, media=FILE_PREFIX + str(path),
        )
        return None

    # ---- the sweep -----------------------------------------------------------------------------

    async def sweep(self, *, lock: bool = False) -> int:
        """Everything time-driven of the wall, each step deciding from the database whether it is due."""
        acted = 0
        for step in (self.post_digests, self.remind_ratings, self.visit_last_month, self.post_reports):
            try:
                acted += await step()
            except Exception:  # one failing step (its transaction rolled back) must not stop the others
                log.exception("wall sweep: %s failed; the next sweep retries", step.__name__)
        return acted
