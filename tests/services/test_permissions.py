"""Permissions as a table: every built-in command and case button, used by every kind of person.

People: a stranger (never seen before), the resident who reported, a neighbour, the building head of
another building, a volunteer (no shift now), property staff, and the community admin. The test walks
the whole table; each row states who may and who is refused, and checks nothing changed on a refusal.
"""

from __future__ import annotations

import pytest

from bot.bootstrap import Core
from bot.core.events import Actor, ChatRef
from tests.conftest import ADMIN, BUILDING_CHAT, NEIGHBOUR, RESIDENT, STAFF_CHAT, VOLUNTEER, Events
from tests.services.test_case_flow import cases, outbox

STRANGER = Actor(8888, "路人甲")
HEAD_OTHER = Actor(3005, "五栋长 陈")
PROPERTY = Actor(3007, "物业 钱")
OTHER_BUILDING = ChatRef(-1005, "supergroup", "5栋业主群")
PEOPLE = {
    "stranger": STRANGER, "reporter": RESIDENT, "neighbour": NEIGHBOUR, "head_other": HEAD_OTHER,
    "volunteer": VOLUNTEER, "property": PROPERTY, "admin": ADMIN,
}
STAFF_HERE = {"volunteer", "property", "admin"}
ADMIN_ONLY = {"admin"}
REFUSED = ("只有", "没有权限", "不能这样操作", "失效", "已派给", "在办", "已经处理过", "不能接")


def refused(text: str) -> bool:
    """True for one of the polite refusals."""
    return any(word in text for word in REFUSED)


async def community(core: Core, ev: Events) -> None:
    """3栋 and 5栋 bound, the staff group bound, roles granted, and case #1 open in 3栋."""
    s = core.services
    for chat, name in ((BUILDING_CHAT, "3栋"), (OTHER_BUILDING, "5栋")):
        await s.handle_command(ev.command(chat, ADMIN, "bind", name))
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "bind", "staff"))
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "grant", "volunteer", reply_to=VOLUNTEER))
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "grant", "property", reply_to=PROPERTY))
    await s.handle_command(ev.command(OTHER_BUILDING, ADMIN, "grant", "building_head", reply_to=HEAD_OTHER))
    await s.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋2单元电梯坏了，我电话13912345678"))


def private(actor: Actor) -> ChatRef:
    """The person's private chat with the bot."""
    return ChatRef(actor.user_id, "private", "")


# (button data, where it is pressed, who may) — on the open, unclaimed case #1.
BUTTONS = [
    ("c1:claim:1", STAFF_CHAT, STAFF_HERE),
    ("c1:resolve:1", STAFF_CHAT, STAFF_HERE),
    ("c1:explain:1", STAFF_CHAT, STAFF_HERE),
    ("c1:pass:1", STAFF_CHAT, STAFF_HERE),
    ("c1:rate:1:good", BUILDING_CHAT, set()),  # nothing to rate before it is resolved
    ("c1:ask:1:y", BUILDING_CHAT, set()),  # no question was asked
    ("c1:plus:1", BUILDING_CHAT, set(PEOPLE) - {"reporter"}),  # anyone affected may +1, once
    (f"c1:passto:1:{ADMIN.user_id}", STAFF_CHAT, {"volunteer", "property"}),
]


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize(("data", "chat", "allowed"), BUTTONS, ids=[b[0] for b in BUTTONS])
async def test_button_table(core: Core, ev: Events, who: str, data: str, chat: ChatRef, allowed: set[str]) -> None:
    await community(core, ev)
    before = await cases(core)
    answer = await core.services.handle_press(ev.press(chat, PEOPLE[who], data))
    after = await cases(core)
    if who in allowed:
        assert not refused(answer.text), (who, data, answer.text)
    else:
        assert refused(answer.text) or answer.text == "你是这件事的反映人，已经记录在案。", (who, data, answer)
        assert [(c.status, c.assignee_id, c.offered_to_id, c.rating) for c in after] == [
            (c.status, c.assignee_id, c.offered_to_id, c.rating) for c in before
        ]


# (command, args, where, who may) — admin commands refuse everyone else with the same sentence.
ADMIN_COMMANDS = [
    ("bind", "9栋", OTHER_BUILDING), ("unbind", "", OTHER_BUILDING), ("grant", "volunteer", STAFF_CHAT),
    ("revoke", "", STAFF_CHAT), ("keyword", "add repair 水压低", STAFF_CHAT), ("reload", "", STAFF_CHAT),
]


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize(("name", "args", "chat"), ADMIN_COMMANDS, ids=[c[0] for c in ADMIN_COMMANDS])
async def test_admin_command_table(core: Core, ev: Events, who: str, name: str, args: str, chat: ChatRef) -> None:
    await community(core, ev)
    seen = len(await outbox(core))
    await core.services.handle_command(ev.command(chat, PEOPLE[who], name, args, reply_to=NEIGHBOUR))
    reply = (await outbox(core))[seen:]
    assert len(reply) == 1
    if who in ADMIN_ONLY:
        assert "只有社区管理员" not in reply[0].text, (name, reply[0].text)
    else:
        assert reply[0].text == "只有社区管理员可以这样操作。", (who, name, reply[0].text)


@pytest.mark.parametrize("who", list(PEOPLE))
async def test_case_details_are_shown_only_to_whom_the_rules_allow(core: Core, ev: Events, who: str) -> None:
    await community(core, ev)
    person = PEOPLE[who]
    for chat in (BUILDING_CHAT, OTHER_BUILDING, private(person)):
        seen = len(await outbox(core))
        await core.services.handle_command(ev.command(chat, person, "case", "1"))
        (reply,) = (await outbox(core))[seen:]
        full = chat.is_private and who in {"reporter", *STAFF_HERE}
        # The reporter's name and phone number: only in private, only to the reporter and this building's staff.
        assert ("张大爷" in reply.text) == full, (who, chat.title, reply.text)
        assert ("13912345678" in reply.text) == full, (who, chat.title, reply.text)


# Feature commands for admins (and /open for staff): everyone else gets a refusal and nothing is queued
# for anyone else (no broadcast preview, no export file, no activity dialogue, no case).
FEATURE_COMMANDS = [
    ("broadcast", "全体\n停水通知：明天 9:00–12:00 停水", STAFF_CHAT, ADMIN_ONLY),
    ("activity", "", None, ADMIN_ONLY),
    ("redeem", "志愿者 10 兑换毛巾", STAFF_CHAT, ADMIN_ONLY),
    ("export", "2026-11", STAFF_CHAT, ADMIN_ONLY),
    ("reports", "week", STAFF_CHAT, ADMIN_ONLY),
    ("open", "3栋 电话 楼道灯坏了", STAFF_CHAT, STAFF_HERE | {"head_other"}),
]


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize(("name", "args", "chat", "allowed"), FEATURE_COMMANDS, ids=[c[0] for c in FEATURE_COMMANDS])
async def test_feature_command_table(
    core: Core, ev: Events, who: str, name: str, args: str, chat: ChatRef | None, allowed: set[str]
) -> None:
    await community(core, ev)
    person = PEOPLE[who]
    where = chat or private(person)
    seen = len(await outbox(core))
    cases_before = len(await cases(core))
    await core.services.handle_command(ev.command(where, person, name, args))
    replies = (await outbox(core))[seen:]
    if who in allowed:
        assert replies and not any(refused(r.text) for r in replies), (who, name, [r.text for r in replies])
    else:
        assert [r.chat_id for r in replies] == [where.chat_id], (who, name, [r.text for r in replies])
        assert refused(replies[0].text) and not replies[0].media, (who, name, replies[0].text)
        assert len(await cases(core)) == cases_before
