"""Community activities (社区活动): a guided dialogue, announcements with sign-ups, waiting list, check-in.

``/activity`` (admins, in private) asks step by step: title → time → place → audience → capacity, then
shows a preview with [发布] [取消]. The dialogue's step and answers live in the ``dialogues`` table, so
it survives restarts and works on any instance; a bad answer is refused and the same step asked again;
``/cancel`` ends it. Publishing posts the announcement with [报名] [取消报名] into every group of the
audience; it is posted again before the start (community rules, by default the day before and an hour
before). A press edits the pressed announcement at once; a sweep brings the other groups' copies up to
date. A full activity puts people on a waiting list, promoted in order when someone cancels. A recurring
activity (``每周五 19:30``) is one row per occurrence: when one starts, the next is created and announced.
Attendance: the organiser's ``/checkin #<id>`` lists sign-ups with buttons, or an attendee sends
``/checkin <code>`` to the bot; either earns the attendance points once.
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime, timedelta

from bot.core.activities import Activity, ActivityStatus, Signup, SignupStatus
from bot.core.callbacks import CallbackData
from bot.core.errors import BadInput, NotFound, PermissionDenied
from bot.core.events import ButtonPress, Command, IncomingMessage, PressAnswer
from bot.core.model import (
    PRIORITY_BROADCAST,
    PRIORITY_LIVE,
    Button,
    Chat,
    ChatKind,
    Dialogue,
    Member,
    OutboxKind,
    OutgoingMessage,
)
from bot.core.ports import UnitOfWork
from bot.core.when import WhenError, next_fire, parse_when
from bot.services.audience import resolve_audience
from bot.services.base import Deps
from bot.services.feature import CommandHandler, DialogueHandler, Feature, PressHandler, Sweep
from bot.services.points import PointsService

DIALOGUE = "activity"
STEPS = ("title", "time", "place", "audience", "capacity")
TITLE_LIMIT = 60
PLACE_LIMIT = 100
CHECKIN_EARLY = timedelta(hours=2)
CHECKIN_LATE = timedelta(hours=12)
WEEKDAYS = "一二三四五六日"


class ActivityService(Feature):
    """/activity, /activities, /checkin, the sign-up buttons, the creation dialogue and the notice sweep."""

    def __init__(self, deps: Deps, points: PointsService) -> None:
        super().__init__(deps)
        self.points = points

    def commands(self) -> dict[str, CommandHandler]:
        """``/activity``, ``/activities``, ``/checkin``."""
        return {"activity": self.begin, "activities": self.list_upcoming, "checkin": self.checkin}

    def presses(self) -> dict[str, PressHandler]:
        """Publish/discard a draft, sign up/cancel, mark attendance."""
        return {
            "actpub": self.publish, "actdrop": self.discard, "join": self.join, "leave": self.leave,
            "attend": self.attend,
        }

    def dialogues(self) -> dict[str, DialogueHandler]:
        """The creation dialogue."""
        return {DIALOGUE: self.answer}

    def sweeps(self) -> dict[str, tuple[Sweep, int]]:
        """Announcements before the start, next occurrences, and live counts on every copy."""
        return {"activity_sweep": (self.sweep, 30)}

    # ---- the creation dialogue ------------------------------------------------------------------

    async def begin(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        """``/activity``: start the guided dialogue (admins, in a private chat)."""
        if not self.is_admin(member):
            raise PermissionDenied("activity.not_admin")
        if chat.kind != ChatKind.PRIVATE:
            raise BadInput("activity.private_only")
        await uow.dialogues.put(self._dialogue(chat, member, "title", {}))
        return self.t("activity.ask_title")

    def _dialogue(self, chat: Chat, member: Member, step: str, data: dict[str, object]) -> Dialogue:
        expires = self.deps.clock.now() + timedelta(minutes=self.deps.rules.dialogue_minutes)
        return Dialogue(chat.chat_id, member.user_id, DIALOGUE, step=step, data=data, expires_at=expires)

    async def answer(
        self, uow: UnitOfWork, member: Member, chat: Chat, dialogue: Dialogue, event: IncomingMessage
    ) -> None:
        """One answer of the dialogue: a bad one is refused (the step stays), a good one asks the next step."""
        text = unicodedata.normalize("NFKC", event.text).strip()
        if not text:
            raise BadInput("activity.need_text")
        data = dict(dialogue.data)
        step = dialogue.step or "title"
        if step == "title":
            title, _, description = text.partition("\n")
            if len(title) > TITLE_LIMIT:
                raise BadInput("activity.title_too_long", limit=TITLE_LIMIT)
            data.update(title=title.strip(), description=description.strip())
        elif step == "time":
            starts_at, rule, deadline = self.times(text)
            data.update(starts_at=starts_at.isoformat(), rule=rule, deadline=deadline.isoformat())
        elif step == "place":
            data["place"] = text[:PLACE_LIMIT]
        elif step == "audience":
            audience = await resolve_audience(uow, await self.community(uow), text)
            data["audience"] = audience.label
        elif step == "capacity":
            data["capacity"] = self.capacity(text)
            await uow.dialogues.delete(chat.chat_id, member.user_id)
            await self._draft(uow, member, chat, data)
            return
        next_step = STEPS[STEPS.index(step) + 1]
        await uow.dialogues.put(self._dialogue(chat, member, next_step, data))
        await self.queue(uow, chat.chat_id, self.t(f"activity.ask_{next_step}"), reply_to=event.message_id)

    def times(self, text: str) -> tuple[datetime, str | None, datetime]:
        """(start, recurring rule, sign-up deadline) from "11月28日 下午3点" or "… 截止 11月27日 18:00".

        Without a deadline sign-ups close when the activity starts. Raises BadInput for a time that
        cannot be read, is past, or a deadline after the start.
        """
        now = self.deps.clock.now()
        when_text, _, deadline_text = text.replace("报名截止", "截止").partition("截止")
        try:
            when = parse_when(when_text.strip(" ，,;；"), now, self.tz)
            deadline = parse_when(deadline_text.strip(" ：:，,"), now, self.tz).at if deadline_text.strip() else when.at
        except WhenError as err:
            raise BadInput(err.key, **err.params) from None
        if when.at <= now:
            raise BadInput("activity.in_past", when=self.show_time(when.at))
        if deadline <= now or deadline > when.at:
            raise BadInput("activity.bad_deadline", deadline=self.show_time(deadline), when=self.show_time(when.at))
        return when.at, when.rule, deadline

    def capacity(self, text: str) -> int:
        """A capacity: a whole number from 1 to the community's maximum."""
        value = text.removesuffix("人").strip()
        if not value.lstrip("-").isdigit() or not value.isascii():
            raise BadInput("activity.bad_capacity", value=text[:20])
        number = int(value)
        if number <= 0:
            raise BadInput("activity.bad_capacity", value=text[:20])
        if number > self.deps.rules.activities.max_capacity:
            raise BadInput("activity.capacity_too_big", limit=self.deps.rules.activities.max_capacity)
        return number

    async def _draft(self, uow: UnitOfWork, member: Member, chat: Chat, data: dict[str, object]) -> Activity:
        community = await self.community(uow)
        audience = await resolve_audience(uow, community, str(data["audience"]))
        starts_at = datetime.fromisoformat(str(data["starts_at"]))
        activity = await uow.activities.add(
            Activity(
                None, community.id, str(data["title"]), starts_at, int(str(data["capacity"])), member.user_id,
                self.deps.clock.now(), description=str(data.get("description") or ""), place=str(data["place"]),
                rule=str(data["rule"]) if data.get("rule") else None, audience=audience.label,
                targets=audience.chat_ids, status=ActivityStatus.DRAFT,
                signup_deadline=datetime.fromisoformat(str(data.get("deadline") or data["starts_at"])),
            )
        )
        aid = activity.id or 0
        await self.queue(
            uow,
            chat.chat_id,
            self.t("activity.preview", card=self.card(activity, 0, 0), count=len(audience.chats)),
            buttons=[[
                Button(self.t("activity.button_publish"), CallbackData("actpub", aid).pack()),
                Button(self.t("activity.button_discard"), CallbackData("actdrop", aid).pack()),
            ]],
            ref=f"actq:{aid}",
        )
        return activity

    async def add(self, uow: UnitOfWork, activity: Activity) -> Activity:
        """Store and publish an activity built elsewhere (the command-line import); announces it."""
        activity.status = ActivityStatus.DRAFT
        stored = await uow.activities.add(activity)
        await self._open(uow, stored)
        return stored

    # ---- publishing -----------------------------------------------------------------------------

    async def publish(self, uow: UnitOfWork, member: Member, event: ButtonPress, data: CallbackData) -> PressAnswer:
        """[发布]: the activity opens and is announced in every group of its audience."""
        activity = await self._organised(uow, member, data.target_id)
        if activity.status != ActivityStatus.DRAFT:
            return PressAnswer(self.t("activity.already_published"))
        if activity.starts_at <= self.deps.clock.now():
            raise BadInput("activity.in_past", when=self.show_time(activity.starts_at))
        count = await self._open(uow, activity)
        await self.queue_edit(
            uow, f"actq:{activity.id}",
            self.t("activity.published", card=self.card(activity, 0, 0), count=count, code=activity.checkin_code,
                   id=activity.id),
        )
        return PressAnswer(self.t("activity.published_toast", count=count))

    async def _open(self, uow: UnitOfWork, activity: Activity) -> int:
        activity.status = ActivityStatus.OPEN
        activity.checkin_code = activity.checkin_code or f"{secrets.randbelow(9000) + 1000}{activity.id}"
        activity.next_notice_at = self._next_notice(activity, self.deps.clock.now())
        await uow.activities.update(activity)
        return await self._announce(uow, activity, "activity.header_new")

    async def discard(self, uow: UnitOfWork, member: Member, event: ButtonPress, data: CallbackData) -> PressAnswer:
        """[取消] on a draft: nothing is announced."""
        activity = await self._organised(uow, member, data.target_id)
        if activity.status != ActivityStatus.DRAFT:
            return PressAnswer(self.t("activity.already_published"))
        activity.status = ActivityStatus.CANCELLED
        await uow.activities.update(activity)
        await self.queue_edit(uow, f"actq:{activity.id}", self.t("activity.discarded"))
        return PressAnswer(self.t("activity.discarded"))

    async def _organised(self, uow: UnitOfWork, member: Member, activity_id: int) -> Activity:
        activity = await uow.activities.get(activity_id, for_update=True)
        if activity is None:
            raise NotFound("activity.gone")
        if not (self.is_admin(member) or member.user_id == activity.organiser_id):
            raise PermissionDenied("activity.not_admin")
        return activity

    def _next_notice(self, activity: Activity, now: datetime) -> datetime | None:
        for minutes in self.deps.rules.activities.notices_before_minutes:
            moment = activity.starts_at - timedelta(minutes=minutes)
            if moment > now:
                return moment
        return None

    async def _announce(self, uow: UnitOfWork, activity: Activity, header: str) -> int:
        going, waiting = await self._counts(uow, activity)
        text = self.t(header) + "\n" + self.card(activity, going, waiting)
        sent = 0
        for chat_id in activity.targets:
            chat = await uow.chats.get(chat_id)
            if chat is None or not chat.active:
                continue
            await self.queue(
                uow, chat_id, text, buttons=self.buttons(activity), ref=activity.ref, priority=PRIORITY_BROADCAST
            )
            sent += 1
        activity.shown = f"{going}/{waiting}"
        await uow.activities.update(activity)
        return sent

    def buttons(self, activity: Activity) -> list[list[Button]]:
        """[报名] [取消报名] of an announcement."""
        aid = activity.id or 0
        return [[
            Button(self.t("activity.button_join"), CallbackData("join", aid).pack()),
            Button(self.t("activity.button_leave"), CallbackData("leave", aid).pack()),
        ]]

    def show_time(self, moment: datetime) -> str:
        """A moment as residents read it: 11月28日（周五）19:30, in the community's time zone."""
        local = moment.astimezone(self.tz)
        return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"

    def card(self, activity: Activity, going: int, waiting: int) -> str:
        """The announcement text with the live count."""
        lines = [self.t("activity.card_title", title=activity.title)]
        if activity.description:
            lines.append(activity.description)
        lines.append(self.t("activity.card_time", when=self.show_time(activity.starts_at)))
        if activity.rule:
            lines.append(self.t("activity.card_repeats"))
        lines.append(self.t("activity.card_place", place=activity.place))
        count = self.t("activity.card_count", going=going, capacity=activity.capacity)
        if waiting:
            count += self.t("activity.card_waiting", waiting=waiting)
        lines.append(count)
        if activity.signup_deadline is not None and activity.signup_deadline < activity.starts_at:
            lines.append(self.t("activity.card_deadline", deadline=self.show_time(activity.signup_deadline)))
        return "\n".join(lines)

    async def _counts(self, uow: UnitOfWork, activity: Activity) -> tuple[int, int]:
        signups = await uow.activities.signups(activity.id or 0)
        going = sum(1 for s in signups if s.status == SignupStatus.GOING)
        waiting = sum(1 for s in signups if s.status == SignupStatus.WAITING)
        return going, waiting

    # ---- sign-ups -------------------------------------------------------------------------------

    async def join(self, uow: UnitOfWork, member: Member, event: ButtonPress, data: CallbackData) -> PressAnswer:
        """[报名]: a place while there is one, else the waiting list (the activity row is locked meanwhile)."""
        activity = await self._open_activity(uow, data.target_id)
        now = self.deps.clock.now()
        if now >= (activity.signup_deadline or activity.starts_at):
            raise BadInput("activity.closed")
        mine = await uow.activities.signup_of(activity.id or 0, member.user_id)
        if mine is not None and mine.status == SignupStatus.GOING:
            return PressAnswer(self.t("activity.already_going"))
        if mine is not None and mine.status == SignupStatus.WAITING:
            return PressAnswer(self.t("activity.already_waiting"))
        going, waiting = await self._counts(uow, activity)
        status = SignupStatus.GOING if going < activity.capacity else SignupStatus.WAITING
        if mine is None:
            mine = Signup(None, activity.id or 0, member.user_id, member.name, status, now)
        else:
            mine.status, mine.created_at, mine.name = status, now, member.name
        await uow.activities.save_signup(mine)
        await self._edit_pressed(uow, activity, event)
        if status == SignupStatus.GOING:
            return PressAnswer(self.t("activity.joined", title=activity.title))
        return PressAnswer(self.t("activity.waitlisted", position=waiting + 1), alert=True)

    async def leave(self, uow: UnitOfWork, member: Member, event: ButtonPress, data: CallbackData) -> PressAnswer:
        """[取消报名]: the place goes to the first on the waiting list, who is told in private."""
        activity = await self._open_activity(uow, data.target_id)
        mine = await uow.activities.signup_of(activity.id or 0, member.user_id)
        if mine is None or mine.status == SignupStatus.CANCELLED:
            raise BadInput("activity.not_signed")
        was_going = mine.status == SignupStatus.GOING
        mine.status = SignupStatus.CANCELLED
        await uow.activities.save_signup(mine)
        if was_going:
            await self.promote(uow, activity)
        await self._edit_pressed(uow, activity, event)
        return PressAnswer(self.t("activity.left"))

    async def promote(self, uow: UnitOfWork, activity: Activity) -> Signup | None:
        """Give free places to the waiting list in order; returns the last person promoted."""
        promoted = None
        signups = await uow.activities.signups(activity.id or 0)
        going = sum(1 for s in signups if s.status == SignupStatus.GOING)
        for signup in signups:
            if going >= activity.capacity:
                break
            if signup.status != SignupStatus.WAITING:
                continue
            signup.status = SignupStatus.GOING
            await uow.activities.save_signup(signup)
            going += 1
            promoted = signup
            person = await uow.members.get(signup.user_id)
            if person is not None and person.can_message_privately:
                await self.queue(
                    uow, signup.user_id,
                    self.t("activity.promoted", title=activity.title, when=self.show_time(activity.starts_at)),
                )
        return promoted

    async def _open_activity(self, uow: UnitOfWork, activity_id: int) -> Activity:
        activity = await uow.activities.get(activity_id, for_update=True)
        if activity is None or activity.status != ActivityStatus.OPEN:
            raise NotFound("activity.gone")
        return activity

    async def _edit_pressed(self, uow: UnitOfWork, activity: Activity, event: ButtonPress) -> None:
        """The announcement that was pressed shows the new count at once (the sweep updates the others).

        A burst of presses on one message makes one edit, not one per press: an edit still waiting for
        its turn (a group takes 1 message/s) is given the newest text instead.
        """
        going, waiting = await self._counts(uow, activity)
        text = self.t("activity.header_new") + "\n" + self.card(activity, going, waiting)
        if await uow.broadcasts.coalesce_edit(event.chat.chat_id, event.message_id, text):
            return
        await uow.outbox.add(
            OutgoingMessage(
                chat_id=event.chat.chat_id,
                text=text,
                kind=OutboxKind.EDIT,
                buttons=self.buttons(activity),
                target_message_id=event.message_id,
                created_at=self.deps.clock.now(),
                priority=PRIORITY_LIVE,
            )
        )

    async def list_upcoming(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        """``/activities``: what is coming up, with the counts."""
        community = await self.community(uow)
        upcoming = await uow.activities.upcoming(community.id, self.deps.clock.now())
        if not upcoming:
            return self.t("activity.none")
        lines = [self.t("activity.list_title")]
        for activity in upcoming:
            going, _waiting = await self._counts(uow, activity)
            lines.append(
                self.t("activity.list_line", id=activity.id, title=activity.title,
                       when=self.show_time(activity.starts_at), going=going, capacity=activity.capacity)
            )
        return "\n".join(lines)

    # ---- attendance -----------------------------------------------------------------------------

    async def checkin(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        """``/checkin <code>`` (an attendee) or ``/checkin #<id>`` (the organiser: the list with buttons)."""
        arg = unicodedata.normalize("NFKC", cmd.args).strip()
        if arg.startswith("#") and arg[1:].isdigit():
            return await self._checkin_list(uow, member, chat, int(arg[1:]))
        if not arg.isdigit():
            raise BadInput("activity.checkin_usage")
        activity = await uow.activities.by_code(arg)
        if activity is None or activity.status != ActivityStatus.OPEN:
            raise NotFound("activity.bad_code")
        now = self.deps.clock.now()
        if not (activity.starts_at - CHECKIN_EARLY <= now <= activity.starts_at + CHECKIN_LATE):
            raise BadInput("activity.checkin_closed", when=self.show_time(activity.starts_at))
        mine = await uow.activities.signup_of(activity.id or 0, member.user_id)
        if mine is None or mine.status != SignupStatus.GOING:
            raise BadInput("activity.not_signed")
        if mine.attended_at is not None:
            return self.t("activity.already_checked_in", title=activity.title)
        points = await self._attended(uow, activity, mine)
        return self.t("activity.checked_in", title=activity.title, points=points)

    async def _checkin_list(self, uow: UnitOfWork, member: Member, chat: Chat, activity_id: int) -> str:
        activity = await self._organised(uow, member, activity_id)
        text, buttons = await self._checkin_sheet(uow, activity)
        if not buttons:
            return self.t("activity.nobody")
        await self.queue(uow, chat.chat_id, text, buttons=buttons)
        return ""

    async def _checkin_sheet(self, uow: UnitOfWork, activity: Activity) -> tuple[str, list[list[Button]]]:
        """The check-in list: one button per person signed up, ✅ for those already present."""
        going = [s for s in await uow.activities.signups(activity.id or 0) if s.status == SignupStatus.GOING]
        buttons = [
            [Button(("✅ " if s.attended_at else "") + s.name[:20], CallbackData("attend", s.id or 0).pack())]
            for s in going[:90]
        ]
        text = self.t("activity.checkin_list", title=activity.title, count=len(going), code=activity.checkin_code)
        return text, buttons

    async def attend(self, uow: UnitOfWork, member: Member, event: ButtonPress, data: CallbackData) -> PressAnswer:
        """The organiser marks one sign-up as attended."""
        signup = await uow.activities.signup(data.target_id)
        if signup is None:
            raise NotFound("activity.gone")
        activity = await self._organised(uow, member, signup.activity_id)
        if signup.status != SignupStatus.GOING:
            raise BadInput("activity.not_signed")
        points = await self._attended(uow, activity, signup)
        text, buttons = await self._checkin_sheet(uow, activity)
        await uow.outbox.add(
            OutgoingMessage(
                chat_id=event.chat.chat_id, text=text, kind=OutboxKind.EDIT, buttons=buttons,
                target_message_id=event.message_id, created_at=self.deps.clock.now(), priority=PRIORITY_LIVE,
            )
        )
        return PressAnswer(self.t("activity.marked", name=signup.name, points=points))

    async def _attended(self, uow: UnitOfWork, activity: Activity, signup: Signup) -> int:
        if signup.attended_at is None:
            signup.attended_at = self.deps.clock.now()
            await uow.activities.save_signup(signup)
        points = self.deps.rules.points.attendance
        credited = await self.points.award(
            uow, signup.user_id, signup.name, points, "attendance",
            self.t("points.reason_attendance", title=activity.title), f"att:{activity.id}:{signup.user_id}",
        )
        return points if credited else 0

    # ---- the sweep ------------------------------------------------------------------------------

    async def sweep(self, lock: bool = False) -> int:
        """Post the announcements whose time has come, create next occurrences, refresh live counts."""
        done = 0
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            for activity in await uow.activities.notices_due(now, lock=lock):
                if activity.starts_at > now:
                    hours = (activity.starts_at - now).total_seconds() / 3600
                    await self._announce(uow, activity, "activity.header_soon" if hours <= 2 else "activity.header_day")
                    activity.notices_sent += 1
                activity.next_notice_at = self._next_notice(activity, now)
                await uow.activities.update(activity)
                done += 1
            for activity in await uow.activities.series_to_roll(now):
                done += await self._roll(uow, activity, now)
            community = await self.community(uow)
            for activity in await uow.activities.upcoming(community.id, now, limit=50):
                going, waiting = await self._counts(uow, activity)
                if activity.shown != f"{going}/{waiting}":
                    activity.shown = f"{going}/{waiting}"
                    await uow.activities.update(activity)
                    await self.queue_edit(
                        uow, activity.ref, self.t("activity.header_new") + "\n" + self.card(activity, going, waiting),
                        self.buttons(activity),
                    )
                    done += 1
            await uow.commit()
        return done

    async def _roll(self, uow: UnitOfWork, activity: Activity, now: datetime) -> int:
        """A recurring activity started: it becomes a one-off, and the next occurrence opens and is announced."""
        rule = activity.rule or ""
        activity.rule = None
        await uow.activities.update(activity)
        following = next_fire(rule, max(activity.starts_at, now), self.tz)
        if following is None:
            return 0
        deadline = activity.signup_deadline or activity.starts_at
        nxt = await uow.activities.add(
            Activity(
                None, activity.community_id, activity.title, following, activity.capacity, activity.organiser_id,
                now, description=activity.description, place=activity.place, rule=rule,
                audience=activity.audience, targets=activity.targets,
                signup_deadline=following - (activity.starts_at - deadline), status=ActivityStatus.DRAFT,
            )
        )
        await self._open(uow, nxt)
        return 1
