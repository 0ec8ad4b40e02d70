"""Case use cases: open and dispatch, claim, resolve with a note, explain, rate, show."""

from __future__ import annotations

from datetime import timedelta

from bot.core.callbacks import CallbackData
from bot.core.classification import Classification
from bot.core.errors import InvalidTransition, NotFound, PermissionDenied
from bot.core.events import ButtonPress, PressAnswer
from bot.core.model import Button, Case, CaseEvent, Chat, ChatKind, Community, Dialogue, Member
from bot.core.ports import UnitOfWork
from bot.core.privacy import mask_text, shorten
from bot.core.states import CaseAction, CaseStatus, next_status
from bot.services.base import Deps, Service
from bot.services.duty import DutyService
from bot.services.reminders import ReminderService, mention_of

RESOLVE_NOTE = "resolve_note"
EXPLAIN_NOTE = "explain_note"
NOTE_LIMIT = 500
#: Rating button argument → (stored rating, line added to the echo). 基本满意 counts as satisfied (closes).
RATINGS = {
    "good": ("satisfied", "case.rated_line_good"),
    "ok": ("basic", "echo.rated_line_basic"),
    "bad": ("unsatisfied", "case.rated_line_bad"),
}
#: Case events done by staff, whose names may be shown publicly.
STAFF_EVENTS = frozenset({"claimed", "resolved", "explained"})


def card_ref(case: Case) -> str:
    """Outbox reference of the case card replying to the resident in the group."""
    return f"case:{case.id}:card"


def case_of_card(ref: str | None) -> int | None:
    """The case id of a group card's outbox reference (:func:`card_ref`); None for any other reference."""
    if ref is None:
        return None
    kind, _, rest = ref.partition(":")
    case_id, _, part = rest.partition(":")
    return int(case_id) if kind == "case" and part == "card" and case_id.isdigit() else None


def dispatch_ref(case: Case) -> str:
    """Outbox reference of the dispatch cards sent to staff."""
    return f"case:{case.id}:dispatch"


def echo_ref(case: Case) -> str:
    """Outbox reference of the echo posted when the case is resolved."""
    return f"case:{case.id}:echo"


class CaseService(Service):
    """The life of a case from the resident's message to the rating."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self.duty = DutyService(deps)
        self.reminders = ReminderService(deps, self.duty)

    # ---- opening and dispatch ------------------------------------------------------------------

    async def open_case(
        self,
        uow: UnitOfWork,
        community: Community,
        chat: Chat,
        reporter: Member,
        message_id: int,
        text: str,
        verdict: Classification,
    ) -> Case:
        """Open a case for a resident's message, dispatch it to staff and reply with the case card."""
        now = self.deps.clock.now()
        case = Case(
            id=None,
            community_id=community.id,
            number=await uow.communities.next_case_number(community.id),
            category=verdict.category,
            urgent=verdict.urgent,
            text=text[:4000],
            reporter_id=reporter.user_id,
            reporter_name=reporter.name,
            chat_id=chat.chat_id,
            message_id=message_id,
            building_id=chat.building_id,
            status=CaseStatus.OPEN,
            created_at=now,
            updated_at=now,
            keywords=tuple(verdict.keywords),
        )
        case.due_at = self.due_at(case)
        self.reminders.plan(case)
        case = await uow.cases.add(case)
        await uow.cases.add_event(
            CaseEvent(case.id or 0, now, "opened", reporter.user_id, reporter.name, ",".join(verdict.keywords))
        )
        notified = await self._dispatch(uow, case)
        await self.queue(
            uow, chat.chat_id, await self._group_card(uow, case, notified), reply_to=message_id, ref=card_ref(case),
            buttons=self._private_report_button(chat),
        )
        return case

    def _private_report_button(self, chat: Chat) -> list[list[Button]]:
        """[私信报事] on a building group's card: a private chat with the bot, set to that building (issue 10)."""
        username = self.deps.profile.username
        if chat.kind != ChatKind.BUILDING or not username or not chat.building_id:
            return []
        url = f"https://t.me/{username}?start=b{chat.building_id}"
        return [[Button(self.t("private.button_private_report"), url=url)]]

    async def _dispatch(self, uow: UnitOfWork, case: Case) -> list[str]:
        """Send the dispatch card to the people the category routes to (privately when the bot can,
        else mentioned in the staff group) and to the staff groups; returns who was told.

        In assign mode (派单) a non-urgent case goes to one person only: the first routed person the
        bot can message privately (else the first routed), who accepts it or passes it on (转派).
        """
        routed = await self.duty.routed_people(uow, case)
        if self.deps.rules.rule_for(case.category).mode == "assign" and not case.urgent and routed:
            chosen = next((pair for pair in routed if pair[1].can_message_privately), routed[0])
            case.offered_to_id, case.offered_to_name = chosen[1].user_id, chosen[1].name
            await uow.cases.update(case)
            routed = [chosen]
        text = await self._dispatch_text(uow, case)
        buttons = self._dispatch_buttons(case)
        told: list[str] = []
        for _, person in routed:
            if person.can_message_privately:
                await self.queue(uow, person.user_id, text, buttons=buttons, ref=dispatch_ref(case))
        unreachable = [person for _, person in routed if not person.can_message_privately]
        group_text = text
        if unreachable:
            group_text = self.t("remind.mention", names="、".join(mention_of(p) for p in unreachable)) + "\n" + text
        for staff_chat in await uow.chats.of_kind(case.community_id, ChatKind.STAFF):
            await self.queue(uow, staff_chat.chat_id, group_text, buttons=buttons, ref=dispatch_ref(case))
            told.append(self.t("case.notified_staff_group"))
        for target, person in routed:
            role = self.t("duty.on_duty_label") if target == "duty" else self.role_name(target)
            told.append(self.t("case.notified_person", role=role, name=person.name))
        return told

    def _dispatch_buttons(self, case: Case) -> list[list[Button]]:
        cid = case.id or 0
        row = []
        if case.status in (CaseStatus.OPEN, CaseStatus.REOPENED):
            row.append(Button(self.t("button.claim"), CallbackData("claim", cid).pack()))
        if case.is_active:
            row.append(Button(self.t("button.resolve"), CallbackData("resolve", cid).pack()))
            row.append(Button(self.t("button.explain"), CallbackData("explain", cid).pack()))
        rows = [row] if row else []
        if case.is_active and self.deps.rules.rule_for(case.category).mode == "assign":
            rows.append([Button(self.t("button.pass_on"), CallbackData("pass", cid).pack())])
        return rows

    async def _building_name(self, uow: UnitOfWork, case: Case) -> str:
        building = await uow.buildings.get(case.building_id) if case.building_id else None
        return building.name if building else self.t("case.no_building")

    def _status_line(self, case: Case) -> str:
        status = self.t(f"state.{case.status.value}")
        if case.offered_to_name and case.status in (CaseStatus.OPEN, CaseStatus.REOPENED):
            return self.t("case.status_offered", status=status, name=case.offered_to_name)
        if case.assignee_name and case.status not in (CaseStatus.OPEN,):
            return self.t("case.status_with_assignee", status=status, name=case.assignee_name)
        return status

    async def _dispatch_text(
        self, uow: UnitOfWork, case: Case, *, supporters: int | None = None, building: str | None = None
    ) -> str:
        """The card staff see: full text and reporter, status, due time, how many are affected.

        ``supporters`` and ``building`` may be given when the caller read them already (the sweep).
        """
        if supporters is None:
            supporters = await uow.cases.supporter_count(case.id or 0)
        affected = "\n" + self.t("case.affected", count=supporters + 1) if supporters else ""
        return self.t(
            "case.dispatch_card",
            urgent=self.t("case.urgent_mark") if case.urgent else "",
            number=case.number,
            category=self.category_name(case.category),
            building=building if building is not None else await self._building_name(uow, case),
            text=shorten(case.text, 1500),
            reporter=case.reporter_name,
            status=self._status_line(case),
            due=self.local_time(case.due_at) if case.due_at else "-",
        ) + affected

    async def _group_card(self, uow: UnitOfWork, case: Case, notified: list[str] | None = None) -> str:
        """The public card replying to the resident: number, category, building, who was told."""
        building = await self._building_name(uow, case)
        if notified is not None:
            told = "、".join(notified) if notified else self.t("case.notified_nobody")
            return self.t(
                "case.group_card",
                urgent=self.t("case.urgent_mark") if case.urgent else "",
                number=case.number,
                category=self.category_name(case.category),
                building=building,
                notified=told,
            )
        return self.t(
            "case.group_card_progress",
            urgent=self.t("case.urgent_mark") if case.urgent else "",
            number=case.number,
            category=self.category_name(case.category),
            building=building,
            status=self._status_line(case),
        )

    # ---- duplicates ----------------------------------------------------------------------------

    async def find_duplicate(self, uow: UnitOfWork, chat: Chat, verdict: Classification) -> Case | None:
        """An open case of the same category in the same building about the same thing, if any."""
        if chat.building_id is None:
            return None
        rule = self.deps.rules.duplicates
        generic = set(rule.generic_words)
        topic = {word for word in verdict.keywords if len(word) >= 2 and word not in generic}
        if not topic:
            return None
        since = self.deps.clock.now() - timedelta(hours=rule.window_hours)
        for case in await uow.cases.similar_active(chat.building_id, verdict.category, since):
            if topic & set(case.keywords):
                return case
        return None

    async def merge_report(self, uow: UnitOfWork, case: Case, chat: Chat, member: Member, message_id: int) -> None:
        """Answer a repeated report with the existing case and a [+1 我也遇到] button; count the author."""
        if member.user_id != case.reporter_id:
            await self._add_supporter(uow, case, member)
        await self.queue(
            uow,
            chat.chat_id,
            self.t(
                "case.duplicate",
                building=await self._building_name(uow, case),
                category=self.category_name(case.category),
                number=case.number,
                status=self.t(f"state.{case.status.value}"),
                count=await uow.cases.supporter_count(case.id or 0) + 1,
            ),
            reply_to=message_id,
            buttons=[[Button(self.t("button.me_too"), CallbackData("plus", case.id or 0).pack())]],
        )

    async def _add_supporter(self, uow: UnitOfWork, case: Case, member: Member) -> bool:
        added = await uow.cases.add_supporter(case.id or 0, member.user_id, member.name, self.deps.clock.now())
        if added:
            await uow.cases.add_event(
                CaseEvent(case.id or 0, self.deps.clock.now(), "supported", member.user_id, member.name)
            )
            await self.queue_edit(
                uow, dispatch_ref(case), await self._dispatch_text(uow, case), self._dispatch_buttons(case)
            )
        return added

    async def plus_one(self, uow: UnitOfWork, member: Member, data: CallbackData) -> PressAnswer:
        """[+1 我也遇到]: record the presser as affected by the case (once per person)."""
        case = await uow.cases.get(data.target_id, for_update=True)
        if case is None:
            raise NotFound("error.case_not_found")
        if not case.is_active:
            raise InvalidTransition("error.transition", status=case.status.value, action="plus")
        if member.user_id == case.reporter_id:
            return PressAnswer(self.t("case.plus_reporter"))
        if not await self._add_supporter(uow, case, member):
            return PressAnswer(self.t("case.plus_already"))
        count = await uow.cases.supporter_count(case.id or 0) + 1
        return PressAnswer(self.t("case.plus_done", count=count))

    # ---- staff actions -------------------------------------------------------------------------

    async def _case_for_staff(self, uow: UnitOfWork, case_id: int, member: Member) -> Case:
        case = await uow.cases.get(case_id, for_update=True)
        if case is None:
            raise NotFound("error.case_not_found")
        if not (member.can_work_on(case.building_id) or self.is_admin(member)):
            raise PermissionDenied("error.not_staff")
        return case

    async def _record(self, uow: UnitOfWork, case: Case, kind: str, member: Member, note: str | None = None) -> None:
        case.updated_at = self.deps.clock.now()
        if kind == "rated_unsatisfied":  # reopened: a fresh due time, reminders from "due soon" on
            case.due_at = case.updated_at + (self.due_at(case) - case.created_at)
            case.reminder_stage = 1
        self.reminders.plan(case)
        await uow.cases.update(case)
        await uow.cases.add_event(CaseEvent(case.id or 0, case.updated_at, kind, member.user_id, member.name, note))

    async def _refresh_cards(self, uow: UnitOfWork, case: Case) -> None:
        await self.queue_edit(uow, dispatch_ref(case), await self._dispatch_text(uow, case), self._dispatch_buttons(case))
        # the group card keeps its [私信报事] button through every update
        await self.queue_edit(uow, card_ref(case), await self._group_card(uow, case), keep_buttons=True)

    async def claim(self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData) -> PressAnswer:
        """接单: the first eligible staff member to press gets the case; later presses are refused."""
        case = await self._case_for_staff(uow, data.target_id, member)
        if case.assignee_id == member.user_id and case.is_active and case.status != CaseStatus.REOPENED:
            return PressAnswer(self.t("case.already_yours", number=case.number))
        if case.status in (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS):
            raise InvalidTransition("error.already_claimed", name=case.assignee_name or "")
        if case.offered_to_id not in (None, member.user_id) and not self.is_admin(member):
            raise PermissionDenied("error.offered_to", name=case.offered_to_name or "")
        case.status = next_status(case.status, CaseAction.CLAIM)
        case.assignee_id, case.assignee_name = member.user_id, member.name
        case.offered_to_id = case.offered_to_name = None
        await self._record(uow, case, "claimed", member)
        await self._refresh_cards(uow, case)
        return PressAnswer(self.t("case.claimed", number=case.number))

    # ---- 转派: passing a case on to another eligible person --------------------------------------

    def _may_pass_on(self, case: Case, member: Member) -> bool:
        holder = case.assignee_id if case.status in (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS) else case.offered_to_id
        return self.is_admin(member) or member.user_id == holder or (holder is None and member.can_work_on(case.building_id))

    async def _pass_candidates(self, uow: UnitOfWork, case: Case, member: Member) -> list[Member]:
        """Who may take the case over: everyone its route, ladder or duty names for its building, but the presser."""
        rule = self.deps.rules.rule_for(case.category)
        targets = [t for t in (*rule.route, *rule.ladder, "duty") if t != "assignee"]
        seen = {member.user_id}
        found: list[Member] = []
        for target in dict.fromkeys(targets):
            for person in await self.duty.holders(uow, target, case.building_id):
                if person.user_id not in seen:
                    seen.add(person.user_id)
                    found.append(person)
        return found

    async def offer_pass(self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData) -> PressAnswer:
        """[转派]: show the holder the people they may pass the case to, as buttons."""
        case = await self._case_for_staff(uow, data.target_id, member)
        if not case.is_active:
            raise InvalidTransition("error.transition", status=case.status.value, action="pass")
        if not self._may_pass_on(case, member):
            raise PermissionDenied("error.not_assignee", name=case.assignee_name or case.offered_to_name or "")
        people = (await self._pass_candidates(uow, case, member))[:12]
        if not people:
            return PressAnswer(self.t("case.pass_nobody"), alert=True)
        buttons = [
            [Button(f"{self.role_name(p.main_role())} {p.name}", CallbackData("passto", case.id or 0, str(p.user_id)).pack())]
            for p in people
        ]
        await self.queue(uow, press.chat.chat_id, self.t("case.pass_choose", number=case.number), buttons=buttons)
        return PressAnswer(self.t("case.pass_choose_toast"))

    async def pass_on(self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData) -> PressAnswer:
        """转派 to the chosen person: they get the card, the case waits for their [接单], the resident is told."""
        case = await self._case_for_staff(uow, data.target_id, member)
        if not case.is_active:
            raise InvalidTransition("error.transition", status=case.status.value, action="pass")
        if not self._may_pass_on(case, member):
            raise PermissionDenied("error.not_assignee", name=case.assignee_name or case.offered_to_name or "")
        target_id = int(data.arg) if data.arg.isdigit() else 0
        target = next((p for p in await self._pass_candidates(uow, case, member) if p.user_id == target_id), None)
        if target is None:
            raise PermissionDenied("case.pass_not_eligible")
        if case.status in (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS):
            case.status = next_status(case.status, CaseAction.RELEASE)
            case.assignee_id = case.assignee_name = None
        case.offered_to_id, case.offered_to_name = target.user_id, target.name
        await self._record(uow, case, "passed", member, target.name)
        await self._refresh_cards(uow, case)
        card = self.t("case.passed_to_you", name=member.name) + "\n" + await self._dispatch_text(uow, case)
        if target.can_message_privately:
            await self.queue(uow, target.user_id, card, buttons=self._dispatch_buttons(case), ref=dispatch_ref(case))
        else:
            for staff_chat in await uow.chats.of_kind(case.community_id, ChatKind.STAFF):
                mention = self.t("remind.mention", names=mention_of(target))
                await self.queue(uow, staff_chat.chat_id, mention + "\n" + card, buttons=self._dispatch_buttons(case))
        await self.queue(uow, case.chat_id, self.t("case.passed_public", number=case.number), reply_to=case.message_id)
        return PressAnswer(self.t("case.passed_toast", number=case.number, name=target.name))

    async def release_cases_of(self, uow: UnitOfWork, person: Member, admin: Member) -> list[int]:
        """A person no longer on staff: their active cases go back to the queue (接单 shown again) and
        the reminder sweep chases them from where their time limits stand; returns the case numbers."""
        numbers = []
        for case in await uow.cases.active_for_assignee(person.user_id):
            if case.status not in (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS):
                continue
            case.status = next_status(case.status, CaseAction.RELEASE)
            case.assignee_id = case.assignee_name = None
            case.reminder_stage = 0
            await self._record(uow, case, "released", admin, person.name)
            await self._refresh_cards(uow, case)
            numbers.append(case.number)
        return numbers

    async def ask_for_note(
        self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData, kind: str
    ) -> PressAnswer:
        """办结 / 说明情况: check the right to act now, then ask the presser for a short note."""
        case = await self._case_for_staff(uow, data.target_id, member)
        action = CaseAction.RESOLVE if kind == RESOLVE_NOTE else CaseAction.EXPLAIN
        if case.assignee_id not in (None, member.user_id) and not self.is_admin(member) and case.is_active:
            raise PermissionDenied("error.not_assignee", name=case.assignee_name or "")
        if case.status in (CaseStatus.OPEN, CaseStatus.REOPENED) and action == CaseAction.RESOLVE:
            next_status(case.status, CaseAction.CLAIM)  # resolving an unclaimed case claims it first
        else:
            next_status(case.status, action)
        prompt = self.t(
            "case.ask_resolve_note" if kind == RESOLVE_NOTE else "case.ask_explain_note",
            name=member.name,
            number=case.number,
        )
        outbox_id = await self.queue(uow, press.chat.chat_id, prompt, force_reply=True)
        expires = self.deps.clock.now() + timedelta(minutes=self.deps.rules.dialogue_minutes)
        await uow.dialogues.put(Dialogue(press.chat.chat_id, member.user_id, kind, case.id, outbox_id, expires))
        return PressAnswer(self.t("case.write_note_toast", number=case.number))

    async def finish_with_note(self, uow: UnitOfWork, member: Member, dialogue: Dialogue, note: str) -> None:
        """The staff member's note arrived: resolve (with the echo) or explain the case."""
        await uow.dialogues.delete(dialogue.chat_id, dialogue.user_id)
        case = await self._case_for_staff(uow, dialogue.case_id or 0, member)
        note = shorten(note, NOTE_LIMIT)
        if dialogue.kind == RESOLVE_NOTE:
            if case.status in (CaseStatus.OPEN, CaseStatus.REOPENED):
                case.status = next_status(case.status, CaseAction.CLAIM)
                case.assignee_id, case.assignee_name = member.user_id, member.name
                await self._record(uow, case, "claimed", member)
            case.status = next_status(case.status, CaseAction.RESOLVE)
            case.assignee_id, case.assignee_name = member.user_id, member.name
            case.resolved_at, case.resolution_note = self.deps.clock.now(), note
            await self._record(uow, case, "resolved", member, note)
            await self._post_echo(uow, case, member)
            confirm = "case.resolved_confirm"
        else:
            case.status = next_status(case.status, CaseAction.EXPLAIN)
            case.resolution_note = note
            await self._record(uow, case, "explained", member, note)
            await self.queue(
                uow,
                case.chat_id,
                self.t(
                    "case.explained_public",
                    number=case.number,
                    note=mask_text(note, await self.known_names(uow, [case])),
                ),
                reply_to=case.message_id,
                ref=echo_ref(case),
            )
            confirm = "case.explained_confirm"
        await self._refresh_cards(uow, case)
        await self.queue(uow, dialogue.chat_id, self.t(confirm, number=case.number))

    async def _post_echo(self, uow: UnitOfWork, case: Case, member: Member) -> None:
        """回音: tell the group, as a reply to the resident's message, what was done, by whom, how fast."""
        took = (case.resolved_at or case.updated_at) - case.created_at
        supporters = await uow.cases.supporter_count(case.id or 0)
        text = self.t(
            "case.echo",
            number=case.number,
            category=self.category_name(case.category),
            building=await self._building_name(uow, case),
            # a dispute is never detailed in public, not even through the staff member's note
            note=self.t("echo.dispute_note")
            if case.category == "dispute"
            else mask_text(case.resolution_note or "", await self.known_names(uow, [case])),
            role=self.role_name(member.main_role()),
            name=member.name,
            took=self.deps.texts.duration(took.total_seconds()),
        )
        if supporters:
            text = text.replace("\n", "\n" + self.t("case.echo_affected", count=supporters + 1) + "\n", 1)
        cid = case.id or 0
        buttons = [
            [
                Button(self.t("button.satisfied"), CallbackData("rate", cid, "good").pack()),
                Button(self.t("echo.button_basic"), CallbackData("rate", cid, "ok").pack()),
                Button(self.t("button.unsatisfied"), CallbackData("rate", cid, "bad").pack()),
            ]
        ]
        await self.queue(uow, case.chat_id, text, reply_to=case.message_id, buttons=buttons, ref=echo_ref(case))

    # ---- the resident's rating -----------------------------------------------------------------

    async def rate(self, uow: UnitOfWork, member: Member, data: CallbackData) -> PressAnswer:
        """满意 / 基本满意 close the case; 不满意 reopens it and tells the assignee. Only the reporter counts,
        once per resolution; after 基本满意 or 不满意 the reporter may reply with a comment (optional)."""
        case = await uow.cases.get(data.target_id, for_update=True)
        if case is None:
            raise NotFound("error.case_not_found")
        if case.reporter_id != member.user_id:
            raise PermissionDenied("error.not_reporter")
        if data.arg not in RATINGS:
            raise InvalidTransition("error.bad_button")
        if case.status not in (CaseStatus.RESOLVED, CaseStatus.EXPLAINED):
            raise InvalidTransition("echo.rate_stale", number=case.number)
        rating, line_key = RATINGS[data.arg]
        satisfied = rating != "unsatisfied"
        case.status = next_status(case.status, CaseAction.CLOSE if satisfied else CaseAction.REOPEN)
        case.rating = rating
        await self._record(uow, case, "rated_" + case.rating, member)
        echo = self.t(line_key)
        echo_messages = await uow.outbox.by_ref(echo_ref(case))
        if echo_messages:
            await self.queue_edit(uow, echo_ref(case), echo_messages[-1].text + "\n" + echo)
        if not satisfied:
            await self._tell_assignee_reopened(uow, case)
            await self._refresh_cards(uow, case)
        if rating != "satisfied":
            prompt = self.t("echo.comment_prompt", name=member.name, number=case.number)
            outbox_id = await self.queue(uow, case.chat_id, prompt, reply_to=case.message_id, force_reply=True)
            expires = self.deps.clock.now() + timedelta(minutes=self.deps.rules.dialogue_minutes)
            await uow.dialogues.put(Dialogue(case.chat_id, member.user_id, "rate_comment", case.id, outbox_id, expires))
        return PressAnswer(self.t("case.thanks_for_rating"))

    async def _tell_assignee_reopened(self, uow: UnitOfWork, case: Case) -> None:
        text = self.t("case.reopened_notice", number=case.number) + "\n\n" + await self._dispatch_text(uow, case)
        assignee = await uow.members.get(case.assignee_id) if case.assignee_id else None
        if assignee is not None and assignee.can_message_privately:
            await self.queue(uow, assignee.user_id, text, buttons=self._dispatch_buttons(case), ref=dispatch_ref(case))
            return
        for staff_chat in await uow.chats.of_kind(case.community_id, ChatKind.STAFF):
            await self.queue(uow, staff_chat.chat_id, text, buttons=self._dispatch_buttons(case), ref=dispatch_ref(case))

    # ---- reading -------------------------------------------------------------------------------

    async def describe(self, uow: UnitOfWork, member: Member, chat: Chat, number: int) -> str:
        """/case N: the state and history of a case; staff in staff or private chats see full details."""
        community = await self.community(uow)
        case = await uow.cases.by_number(community.id, number)
        if case is None:
            raise NotFound("error.case_number_not_found", number=number)
        # Full details (text, reporter) only for staff who may work on this building's cases, in staff or
        # private chats; a building head of another building sees what the public sees.
        full = (member.can_work_on(case.building_id) or self.is_admin(member)) and chat.kind in (
            ChatKind.STAFF,
            ChatKind.ADMIN,
            ChatKind.PRIVATE,
        )
        full = full or (chat.kind == ChatKind.PRIVATE and case.reporter_id == member.user_id)
        names = [] if full else await self.known_names(uow, [case])
        lines = [
            self.t(
                "case.detail_head",
                urgent=self.t("case.urgent_mark") if case.urgent else "",
                number=case.number,
                category=self.category_name(case.category),
                building=await self._building_name(uow, case),
                status=self._status_line(case),
            ),
            self.t(
                "case.detail_text", text=self._public_summary(case, names) if not full else shorten(case.text, 800)
            ),
        ]
        if full:
            lines.append(self.t("case.detail_reporter", reporter=case.reporter_name))
        if case.due_at and case.is_active:
            lines.append(self.t("case.detail_due", due=self.local_time(case.due_at)))
        lines.append(self.t("case.detail_history"))
        for event in await uow.cases.events(case.id or 0):
            # in public only staff are named; residents (reporter, +1s, raters) stay anonymous
            who = event.actor_name if full or event.kind in STAFF_EVENTS else self.t("case.reporter_masked")
            if event.kind == "passed":  # 转派: who passed it to whom, for staff; no names in public
                who = f"{event.actor_name} → {event.note}" if full else ""
            note = ""
            if event.note and event.kind in ("resolved", "explained"):
                note = "：" + (event.note if full else mask_text(event.note, names))
            lines.append(
                self.t(
                    "case.detail_event",
                    at=self.local_time(event.at),
                    what=self.t(f"event.{event.kind}"),
                    who=who or "",
                    note=note,
                )
            )
        return "\n".join(lines)

    def _public_summary(self, case: Case, names: list[str]) -> str:
        """What a group may read about a case: masked, short, and nothing at all about a dispute."""
        if case.category == "dispute":
            return self.t("case.dispute_hidden")
        if case.source != "group":  # told to the bot privately (issue 10): never read out in a group
            return self.t("private.hidden_in_public")
        return shorten(mask_text(case.text, names), 60)

    async def list_mine(self, uow: UnitOfWork, member: Member) -> str:
        """/mycases: the cases a member works on and the ones they reported that are still open."""
        assigned = await uow.cases.active_for_assignee(member.user_id)
        reported = await uow.cases.active_for_reporter(member.user_id)
        if not assigned and not reported:
            return self.t("case.mine_none")
        lines: list[str] = []
        for title, cases in (("case.mine_assigned", assigned), ("case.mine_reported", reported)):
            if not cases:
                continue
            lines.append(self.t(title, count=len(cases)))
            for case in cases:
                lines.append(
                    self.t(
                        "case.mine_line",
                        number=case.number,
                        category=self.category_name(case.category),
                        summary=shorten(mask_text(case.text), 30),
                        status=self.t(f"state.{case.status.value}"),
                    )
                )
        return "\n".join(lines)

