"""Private reports (issue 10): residents report to the bot directly, guided or in one message.

A resident writing in a private chat is recognised as in a group; the bot asks once for their building
(buttons of the community's buildings, remembered, ``/mybuilding`` changes it) and opens a case for it.
``/report`` walks them through category → a sentence → photo → location → anonymous or named → confirm.
A pending report is a ``report`` dialogue (step and data in the ``dialogues`` table), so it survives
restarts and another instance may take the next message. Staff open cases on someone's behalf with
``/open 楼栋 来源 描述``. Relays, comments and ``/mycases`` live in ``bot/services/relay.py``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.callbacks import CallbackData
from bot.core.classification import Classification
from bot.core.errors import BadInput, NotFound, PermissionDenied
from bot.core.events import ButtonPress, Command, IncomingMessage, PressAnswer
from bot.core.model import Building, Button, Case, Chat, ChatKind, Dialogue, MediaKind, Member
from bot.core.ports import UnitOfWork
from bot.core.privacy import shorten
from bot.core.private_reports import CaseNote, PrivateCase
from bot.services.admin import AdminService
from bot.services.base import Deps
from bot.services.cases import CaseService
from bot.services.feature import CommandHandler, DialogueHandler, Feature, PressHandler, Sweep

REPORT = "report"
#: /open's sources as staff write them → stored code.
SOURCE_WORDS = {
    "电话": "phone", "來電": "phone", "电話": "phone", "phone": "phone",
    "上门": "visit", "上門": "visit", "来访": "visit", "visit": "visit",
    "巡查": "patrol", "patrol": "patrol",
}
MAX_PHOTOS = 5


def map_link(lat: float, lon: float) -> str:
    """A map link for a location pin (OpenStreetMap, works without an app)."""
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def deep_link(username: str, building_id: int) -> str:
    """The t.me link opening a private chat with the bot, set to a building."""
    return f"https://t.me/{username}?start=b{building_id}"


class PrivateReports(Feature):
    """Private intake, the building asked once, /report, /mybuilding, deep links and /open for staff."""

    def __init__(self, deps: Deps, cases: CaseService, admin: AdminService) -> None:
        super().__init__(deps)
        self.cases = cases
        self.admin = admin

    def commands(self) -> dict[str, CommandHandler]:
        """/start (deep link), /help (with the 私信报事 button), /report, /mybuilding, /open."""
        return {
            "start": self._start,
            "help": self._help,
            "report": self._report,
            "mybuilding": self._mybuilding,
            "open": self._open_for,
        }

    def presses(self) -> dict[str, PressHandler]:
        """Building pick (setb) and the report flow's buttons (rep)."""
        return {"setb": self._pick_building, "rep": self._report_press}

    def dialogues(self) -> dict[str, DialogueHandler]:
        """The pending report waits for the resident's next message."""
        return {REPORT: self._report_message}

    def sweeps(self) -> dict[str, tuple[Sweep, int]]:
        """Give up politely on reports left unanswered."""
        return {"private_report_sweep": (self.sweep, 60)}

    # ---- helpers -------------------------------------------------------------------------------

    def _expires(self) -> datetime:
        return self.deps.clock.now() + timedelta(minutes=self.deps.rules.private.wait_minutes)

    def _link_button(self, building_id: int | None) -> list[list[Button]]:
        username = self.deps.profile.username
        if not username or not building_id:
            return []
        return [[Button(self.t("private.button_private_report"), url=deep_link(username, building_id))]]

    async def _buildings(self, uow: UnitOfWork) -> list[Building]:
        return await uow.buildings.list((await self.community(uow)).id)

    async def _building_buttons(self, uow: UnitOfWork, with_none: bool) -> list[list[Button]]:
        buildings = await self._buildings(uow)
        rows = [
            [Button(b.name, CallbackData("setb", b.id).pack()) for b in buildings[start : start + 4]]
            for start in range(0, min(len(buildings), 40), 4)
        ]
        if with_none:
            rows.append([Button(self.t("private.button_no_building"), CallbackData("setb", 0).pack())])
        return rows

    def _category_buttons(self, user_id: int, drop: bool) -> list[list[Button]]:
        codes = list(self.deps.classifier.codes)
        rows = [
            [Button(self.category_name(c), CallbackData("rep", user_id, c).pack()) for c in codes[start : start + 4]]
            for start in range(0, len(codes), 4)
        ]
        if drop:
            rows.append([Button(self.t("report_flow.button_drop"), CallbackData("rep", user_id, "drop").pack())])
        return rows

    def _skip_button(self, user_id: int) -> list[list[Button]]:
        return [[Button(self.t("report_flow.button_skip"), CallbackData("rep", user_id, "skip").pack())]]

    def _location_note(self, location: tuple[float, float]) -> str | None:
        """A warning when a pin is far from every building the rules place on the map."""
        places = self.deps.rules.private.building_locations
        if not places:
            return None
        nearest = min(distance_km(location, (lat, lon)) for lat, lon in places.values())
        if nearest <= self.deps.rules.private.max_distance_km:
            return None
        return self.t("private.location_far", km=f"{nearest:.1f}")

    async def _private_chat(self, uow: UnitOfWork, member: Member) -> None:
        if not member.can_message_privately:
            await uow.members.set_private_chat(member.user_id, True)
            member.can_message_privately = True

    # ---- private intake ------------------------------------------------------------------------

    async def take_private(self, uow: UnitOfWork, member: Member, chat: Chat, event: IncomingMessage) -> None:
        """A message in a private chat outside any dialogue: a report, a question, or a hint."""
        await self._private_chat(uow, member)
        text = event.text.strip()
        photo = event.file_id if event.media == "photo" else None
        if not text and not photo and not event.location:
            await self.queue(uow, chat.chat_id, self.t("private.hint"), reply_to=event.message_id)
            return
        data: dict[str, Any] = {
            "guided": False, "text": text, "msg": event.message_id, "photos": [photo] if photo else [],
            "loc": list(event.location) if event.location else None, "asks": 0,
            "building": await uow.reports.building_of(member.user_id),
        }
        dialogue = Dialogue(chat.chat_id, member.user_id, REPORT, expires_at=self._expires(), data=data)
        if event.location:
            await self._warn_location(uow, chat, event)
        if event.forwarded:
            dialogue.step = "forward"
            await uow.dialogues.put(dialogue)
            buttons = [[
                Button(self.t("report_flow.button_forward_yes"), CallbackData("rep", member.user_id, "fwd").pack()),
                Button(self.t("report_flow.button_drop"), CallbackData("rep", member.user_id, "drop").pack()),
            ]]
            await self.queue(uow, chat.chat_id, self.t("private.forwarded"), reply_to=event.message_id, buttons=buttons)
            return
        await self._advance(uow, member, chat, dialogue)

    async def _warn_location(self, uow: UnitOfWork, chat: Chat, event: IncomingMessage) -> None:
        note = self._location_note(event.location) if event.location else None
        if note:
            await self.queue(uow, chat.chat_id, note, reply_to=event.message_id)

    async def _advance(self, uow: UnitOfWork, member: Member, chat: Chat, d: Dialogue) -> None:
        """Ask for what the report still lacks, or submit it."""
        data = d.data
        uid = member.user_id
        if data.get("building") is None:
            if not await self._buildings(uow):
                data["building"] = 0  # a community without buildings: the case goes to community staff
            else:
                first_time = d.step != "building"
                d.step = "building"
                await uow.dialogues.put(d)
                if first_time:
                    await self.queue(
                        uow, chat.chat_id, self.t("private.ask_building"),
                        buttons=await self._building_buttons(uow, with_none=True),
                    )
                else:
                    await self.queue(uow, chat.chat_id, self.t("private.pick_building_first"))
                return
        if data.get("guided"):
            await self._advance_guided(uow, member, chat, d)
            return
        if not data.get("text"):
            data["asks"] = int(data.get("asks", 0)) + 1
            if data["asks"] > self.deps.rules.private.max_asks:
                await uow.dialogues.delete(chat.chat_id, uid)
                await self.queue(uow, chat.chat_id, self.t("private.gave_up"))
                return
            d.step = "text"
            await uow.dialogues.put(d)
            await self.queue(uow, chat.chat_id, self.t("private.ask_text"))
            return
        if not data.get("category"):
            verdict = self.deps.classifier.classify(data["text"])
            confident = verdict.confidence >= self.deps.classifier.threshold or verdict.urgent
            if verdict.is_request and confident:
                data["category"], data["urgent"] = verdict.category, verdict.urgent
            elif not verdict.is_request and not data.get("photos") and not data.get("loc"):
                await uow.dialogues.delete(chat.chat_id, uid)
                await self.queue(uow, chat.chat_id, self.t("private.not_a_request"), reply_to=data.get("msg"))
                return
            else:
                d.step = "category"
                await uow.dialogues.put(d)
                guess = self.category_name(verdict.category) if verdict.is_request else ""
                key = "private.ask_category_guess" if guess else "private.ask_category"
                await self.queue(
                    uow, chat.chat_id, self.t(key, category=guess), buttons=self._category_buttons(uid, drop=True)
                )
                return
        if data.get("anon") is None:
            data["anon"] = data["category"] == "dispute"  # disputes are anonymous unless the resident says otherwise
        await self._submit(uow, member, chat, d)

    async def _advance_guided(self, uow: UnitOfWork, member: Member, chat: Chat, d: Dialogue) -> None:
        data, uid = d.data, member.user_id
        if not data.get("category"):
            d.step, key, buttons = "category", "report_flow.ask_category", self._category_buttons(uid, drop=False)
        elif not data.get("text"):
            d.step, key, buttons = "text", "report_flow.ask_text", []
        elif not data.get("photo_done"):
            d.step, key, buttons = "photo", "report_flow.ask_photo", self._skip_button(uid)
        elif not data.get("loc_done"):
            d.step, key, buttons = "location", "report_flow.ask_location", self._skip_button(uid)
        elif data.get("anon") is None:
            d.step, key = "anon", "report_flow.ask_anon_dispute" if data["category"] == "dispute" else "report_flow.ask_anon"
            buttons = [[
                Button(self.t("report_flow.button_anon"), CallbackData("rep", uid, "anon").pack()),
                Button(self.t("report_flow.button_named"), CallbackData("rep", uid, "named").pack()),
            ]]
        else:
            d.step = "confirm"
            await uow.dialogues.put(d)
            building = await uow.buildings.get(data["building"]) if data.get("building") else None
            summary = self.t(
                "report_flow.confirm",
                category=self.category_name(data["category"]),
                building=building.name if building else self.t("case.no_building"),
                text=shorten(data["text"], 300),
                photos=len(data.get("photos") or []),
                location=self.t("report_flow.with_location") if data.get("loc") else self.t("report_flow.without_location"),
                anonymous=self.t("report_flow.anonymous") if data["anon"] else self.t("report_flow.named"),
            )
            buttons = [[
                Button(self.t("report_flow.button_submit"), CallbackData("rep", uid, "submit").pack()),
                Button(self.t("report_flow.button_cancel"), CallbackData("rep", uid, "drop").pack()),
            ]]
            await self.queue(uow, chat.chat_id, summary, buttons=buttons)
            return
        await uow.dialogues.put(d)
        await self.queue(uow, chat.chat_id, self.t(key), buttons=buttons)

    async def _report_message(
        self, uow: UnitOfWork, member: Member, chat: Chat, d: Dialogue, event: IncomingMessage
    ) -> None:
        """The resident's next message while a report waits: the answer to the current step."""
        data = d.data
        text = event.text.strip()
        photo = event.file_id if event.media == "photo" else None
        photos: list[str] = data.setdefault("photos", [])
        if photo and len(photos) < MAX_PHOTOS:
            photos.append(photo)
        if event.location:
            data["loc"] = list(event.location)
            await self._warn_location(uow, chat, event)
        d.expires_at = self._expires()
        if d.step in ("building", "category", "forward", "anon", "confirm"):
            # these steps are answered with the buttons; words sent meanwhile are kept with the report
            if text and not data.get("guided"):
                data["text"] = (data.get("text", "") + "\n" + text).strip()
            elif text and d.step == "category" and not data.get("text"):
                data["text"], data["msg"] = text, event.message_id  # the guided flow will not ask for it again
            await uow.dialogues.put(d)
            key = "private.pick_building_first" if d.step == "building" else "report_flow.use_buttons"
            await self.queue(uow, chat.chat_id, self.t(key), reply_to=event.message_id)
            return
        if d.step == "text":
            if text:
                data["text"] = text
                data["msg"] = event.message_id
            if photo:
                data["photo_done"] = True  # a photo with a caption answers the photo step too
        elif d.step == "photo":
            if photo:
                data["photo_done"] = True
                if text and not data.get("text"):
                    data["text"] = text
            elif text:
                await uow.dialogues.put(d)
                await self.queue(uow, chat.chat_id, self.t("report_flow.ask_photo"), buttons=self._skip_button(member.user_id))
                return
        elif d.step == "location":
            if event.location:
                data["loc_done"] = True
            else:
                await uow.dialogues.put(d)
                await self.queue(
                    uow, chat.chat_id, self.t("report_flow.ask_location"), buttons=self._skip_button(member.user_id)
                )
                return
        await self._advance(uow, member, chat, d)

    async def _report_press(
        self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData
    ) -> PressAnswer:
        """A button of the report flow: a category, skip, anonymous/named, submit or drop."""
        if data.target_id != member.user_id:
            raise PermissionDenied("error.not_author")
        d = await uow.dialogues.get(press.chat.chat_id, member.user_id)
        if d is None or d.kind != REPORT:
            raise NotFound("report_flow.gone")
        chat = await self.chat_of(uow, press.chat, await self.community(uow))
        arg = data.arg
        if arg == "drop":
            await uow.dialogues.delete(press.chat.chat_id, member.user_id)
            await self.queue(uow, chat.chat_id, self.t("report_flow.dropped"))
            return PressAnswer(self.t("report_flow.dropped"))
        if arg in self.deps.classifier.codes and d.step == "category":
            d.data["category"] = arg
            d.data.setdefault("urgent", False)
        elif arg == "skip" and d.step in ("photo", "location"):
            d.data["photo_done" if d.step == "photo" else "loc_done"] = True
        elif arg in ("anon", "named") and d.step == "anon":
            d.data["anon"] = arg == "anon"
        elif arg == "fwd" and d.step == "forward":
            d.step = ""
        elif arg == "submit" and d.step == "confirm":
            await self._submit(uow, member, chat, d)
            return PressAnswer(self.t("report_flow.submitted_toast"))
        else:
            raise BadInput("error.bad_button")
        await self._advance(uow, member, chat, d)
        return PressAnswer()

    # ---- opening the case ----------------------------------------------------------------------

    async def _submit(self, uow: UnitOfWork, member: Member, chat: Chat, d: Dialogue) -> Case:
        """Open the case for a finished report (or add to the same open case), then tell staff the extras."""
        await uow.dialogues.delete(chat.chat_id, member.user_id)
        data = d.data
        community = await self.community(uow)
        text = data["text"][:4000]
        found = self.deps.classifier.classify(text)
        keywords = found.keywords if found.category == data["category"] else ()
        verdict = Classification(text, data["category"], bool(data.get("urgent")), 1.0, keywords, rule="private")
        building_id = data.get("building") or None
        case_chat = Chat(chat.chat_id, community.id, ChatKind.PRIVATE, chat.title, building_id)
        photos: list[str] = list(data.get("photos") or [])
        loc = data.get("loc")
        existing = await self.cases.find_duplicate(uow, case_chat, verdict)
        if existing is not None:
            await self.cases.merge_report(uow, existing, case_chat, member, int(data.get("msg") or 0))
            await self._attach_and_tell(uow, existing, member, photos, loc)
            return existing
        anonymous = bool(data.get("anon"))
        reporter = replace(member, name=self.t("private.anonymous_name")) if anonymous else member
        case = await self.cases.open_case(uow, community, case_chat, reporter, int(data.get("msg") or 0), text, verdict)
        case.source = "private"
        await uow.cases.update(case)
        extra = PrivateCase(case.id or 0, anonymous, "private", *(loc or (None, None)))
        await uow.reports.add_private(extra)
        await self._tell_staff_extras(uow, case, extra, photos, member)
        key = "private.submitted_anonymous" if anonymous else "private.submitted"
        await self.queue(uow, chat.chat_id, self.t(key, number=case.number))
        return case

    async def staff_targets(self, uow: UnitOfWork, case: Case) -> list[int]:
        """The chats the dispatch card went to: routed people the bot may message, and the staff groups."""
        targets = [p.user_id for _, p in await self.cases.duty.routed_people(uow, case) if p.can_message_privately]
        targets += [c.chat_id for c in await uow.chats.of_kind(case.community_id, ChatKind.STAFF)]
        return list(dict.fromkeys(targets))

    async def _tell_staff_extras(
        self, uow: UnitOfWork, case: Case, extra: PrivateCase, photos: list[str], member: Member
    ) -> None:
        """After the dispatch card: how the case came in, the map link, the relay button and the photos."""
        lines = [self.t(f"private.staff_source_{extra.source}", number=case.number)]
        if extra.anonymous:
            lines.append(self.t("private.staff_anonymous"))
        if extra.latitude is not None and extra.longitude is not None:
            lines.append(self.t("private.staff_location", link=map_link(extra.latitude, extra.longitude)))
        buttons: list[list[Button]] = []
        if extra.source == "private":
            buttons = [[Button(self.t("relay.button_write"), CallbackData("relay", case.id or 0).pack())]]
        now = self.deps.clock.now()
        for file_id in photos:
            await uow.reports.add_note(CaseNote(case.id or 0, now, "photo", member.user_id, "", file_id))
        for target in await self.staff_targets(uow, case):
            await self.queue(uow, target, "\n".join(lines), buttons=buttons, ref=f"case:{case.id}:extra")
            for file_id in photos:
                await self.queue(
                    uow, target, self.t("private.staff_photo", number=case.number),
                    media_kind=MediaKind.PHOTO, media=file_id,
                )

    async def _attach_and_tell(
        self, uow: UnitOfWork, case: Case, member: Member, photos: list[str], loc: list[float] | None
    ) -> None:
        """A repeated private report: its photos and pin join the open case; staff are shown them."""
        if not photos and not loc:
            return
        now = self.deps.clock.now()
        lines = [self.t("private.staff_more", number=case.number)]
        if loc:
            lines.append(self.t("private.staff_location", link=map_link(loc[0], loc[1])))
        for target in await self.staff_targets(uow, case):
            await self.queue(uow, target, "\n".join(lines))
            for file_id in photos:
                await self.queue(
                    uow, target, self.t("private.staff_photo", number=case.number),
                    media_kind=MediaKind.PHOTO, media=file_id,
                )
        for file_id in photos:
            await uow.reports.add_note(CaseNote(case.id or 0, now, "photo", member.user_id, "", file_id))

    # ---- the building --------------------------------------------------------------------------

    async def _pick_building(
        self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData
    ) -> PressAnswer:
        """A building button: remember it (0 = none of these) and continue a report waiting for it."""
        name = self.t("case.no_building")
        if data.target_id:
            building = await uow.buildings.get(data.target_id)
            if building is None or building.community_id != (await self.community(uow)).id:
                raise NotFound("private.building_gone")
            await uow.reports.set_building(member.user_id, building.id, self.deps.clock.now())
            name = building.name
        chat = await self.chat_of(uow, press.chat, await self.community(uow))
        d = await uow.dialogues.get(press.chat.chat_id, member.user_id)
        if d is not None and d.kind == REPORT and d.step == "building":
            d.data["building"] = data.target_id
            d.step = ""
            if not data.target_id:
                community = await self.community(uow)
                await self.queue(uow, chat.chat_id, self.t("private.no_building_picked", community=community.name))
            await self._advance(uow, member, chat, d)
        elif data.target_id:
            await self.queue(uow, chat.chat_id, self.t("private.building_set", building=name))
        return PressAnswer(self.t("private.building_set_toast", building=name))

    async def _mybuilding(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str | None:
        if chat.kind != ChatKind.PRIVATE:
            raise BadInput("private.private_only")
        if not await self._buildings(uow):
            return self.t("private.no_buildings")
        current = await uow.reports.building_of(member.user_id)
        building = await uow.buildings.get(current) if current else None
        text = self.t("private.mybuilding", building=building.name if building else self.t("private.building_unknown"))
        await self.queue(uow, chat.chat_id, text, reply_to=cmd.message_id,
                         buttons=await self._building_buttons(uow, with_none=False))
        return None

    async def _start(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        """/start, and /start b<id> from the 私信报事 button: the chat is set to that building."""
        if chat.kind != ChatKind.PRIVATE:
            return self.help_text(member, chat)
        greeting = self.t("start.private", name=member.name)
        arg = cmd.args.strip()
        if arg.startswith("b") and arg[1:].isascii() and arg[1:].isdigit() and len(arg) <= 12:
            building = await uow.buildings.get(int(arg[1:]))
            if building is None or building.community_id != (await self.community(uow)).id:
                return greeting + "\n" + self.t("private.link_stale") + "\n\n" + self.help_text(member, chat)
            await uow.reports.set_building(member.user_id, building.id, self.deps.clock.now())
            return greeting + "\n" + self.t("private.link_set", building=building.name)
        return greeting + "\n\n" + self.help_text(member, chat)

    def help_text(self, member: Member, chat: Chat) -> str:
        """The built-in help plus how to report privately (and, for staff, how to register for someone)."""
        lines = [self.admin.help(member, chat)]
        if chat.kind == ChatKind.PRIVATE:
            lines.append(self.t("private.help_private"))
        elif chat.kind == ChatKind.BUILDING and self._link_button(chat.building_id):
            lines.append(self.t("private.help_group"))
        if (member.is_staff or self.is_admin(member)) and chat.kind in (ChatKind.PRIVATE, ChatKind.STAFF):
            lines.append(self.t("private.help_staff"))
        return "\n".join(lines)

    async def _help(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str | None:
        """/help; in a building group it carries the 私信报事 button."""
        text = self.help_text(member, chat)
        buttons = self._link_button(chat.building_id) if chat.kind == ChatKind.BUILDING else []
        if not buttons:
            return text
        await self.queue(uow, chat.chat_id, text, reply_to=cmd.message_id, buttons=buttons)
        return None

    async def _report(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str | None:
        """/report: start the guided flow in a private chat (staff figures are /reports)."""
        if chat.kind != ChatKind.PRIVATE:
            buttons = self._link_button(chat.building_id)
            if buttons:
                await self.queue(uow, chat.chat_id, self.t("private.report_in_private"), reply_to=cmd.message_id,
                                 buttons=buttons)
                return None
            raise BadInput("private.private_only")
        await self._private_chat(uow, member)
        data: dict[str, Any] = {
            "guided": True, "text": "", "msg": cmd.message_id, "photos": [], "loc": None, "anon": None,
            "building": await uow.reports.building_of(member.user_id),
        }
        d = Dialogue(chat.chat_id, member.user_id, REPORT, expires_at=self._expires(), data=data)
        await self._advance(uow, member, chat, d)
        return None

    # ---- staff open a case on someone's behalf -------------------------------------------------

    async def _open_for(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str | None:
        """/open 楼栋 来源 描述: staff register a phone call, a visit or a patrol finding."""
        if not (member.is_staff or self.is_admin(member)):
            raise PermissionDenied("error.not_staff")
        if chat.kind not in (ChatKind.PRIVATE, ChatKind.STAFF):
            raise BadInput("private.open_where")
        parts = cmd.args.split(maxsplit=2)
        if len(parts) < 3:
            raise BadInput("private.open_usage")
        name, word, text = parts
        source = SOURCE_WORDS.get(word.lower())
        if source is None:
            raise BadInput("private.open_usage")
        building = next((b for b in await self._buildings(uow) if b.name == name), None)
        if building is None:
            names = "、".join(b.name for b in await self._buildings(uow)) or "-"
            raise BadInput("private.open_building", name=shorten(name, 20), names=shorten(names, 200))
        found = self.deps.classifier.classify(text)
        category = found.category if found.is_request else "other"
        if category not in self.deps.classifier.codes:
            category = self.deps.classifier.codes[-1]
        verdict = Classification(text, category, found.urgent, 1.0, found.keywords, rule=f"staff_{source}")
        community = await self.community(uow)
        case_chat = Chat(chat.chat_id, community.id, chat.kind, chat.title, building.id)
        reporter = replace(member, name=self.t(f"private.on_behalf_{source}", name=member.name))
        case = await self.cases.open_case(uow, community, case_chat, reporter, cmd.message_id, text[:4000], verdict)
        case.source = source
        await uow.cases.update(case)
        extra = PrivateCase(case.id or 0, False, source)
        await uow.reports.add_private(extra)
        await self._tell_staff_extras(uow, case, extra, [], member)
        return None

    # ---- giving up -----------------------------------------------------------------------------

    async def sweep(self, lock: bool) -> int:
        """Reports left waiting past their time: tell the resident politely and end the dialogue."""
        async with self.deps.uow() as uow:
            expired = await uow.reports.expired_dialogues((REPORT,), self.deps.clock.now(), 100, lock=lock)
            for d in expired:
                if await self._without_building(uow, d):
                    continue
                await uow.dialogues.delete(d.chat_id, d.user_id)
                await self.queue(uow, d.chat_id, self.t("private.gave_up"))
            await uow.commit()
        return len(expired)

    async def _without_building(self, uow: UnitOfWork, d: Dialogue) -> bool:
        """A report whose building was never picked is not dropped: it goes on without one."""
        if d.step != "building" or not d.data.get("text") or d.data.get("guided"):
            return False
        member = await uow.members.get(d.user_id)
        chat = await uow.chats.get(d.chat_id)
        if member is None or chat is None:
            return False
        d.data["building"], d.step, d.expires_at = 0, "", self._expires()
        await self.queue(uow, d.chat_id, self.t("private.no_building_chosen"))
        await self._advance(uow, member, chat, d)
        return True
