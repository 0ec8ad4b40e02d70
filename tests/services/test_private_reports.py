"""Private reports at the service layer on a real SQLite database: intake, /report, deep links, relay, follow-up."""

from __future__ import annotations

import json

from bot.bootstrap import Core
from bot.core.clock import ManualClock
from bot.core.events import ChatRef
from bot.core.model import MediaKind
from storage.models import OutboxRow
from tests.conftest import ADMIN, BUILDING_CHAT, NEIGHBOUR, RESIDENT, STAFF_CHAT, VOLUNTEER, Events
from tests.fakes import TableClassifier
from tests.services.test_case_flow import cases, outbox, setup_community

PRIVATE = ChatRef(RESIDENT.user_id, "private", RESIDENT.name)
VOLUNTEER_PRIVATE = ChatRef(VOLUNTEER.user_id, "private", VOLUNTEER.name)
PHOTO = "AgACAgUAAxkBAAIBsimulatedphoto"


def buttons(row: OutboxRow) -> list[dict[str, str]]:
    """The buttons of an outbox row, flattened."""
    return [b for line in json.loads(row.buttons or "[]") for b in line]


def data_of(row: OutboxRow, label: str) -> str:
    """The callback data of the button labelled ``label``."""
    return next(b["d"] for b in buttons(row) if b["t"] == label)


async def to(core: Core, chat_id: int) -> list[OutboxRow]:
    """Everything queued for one chat, oldest first."""
    return [r for r in await outbox(core) if r.chat_id == chat_id]


async def last(core: Core, chat_id: int) -> OutboxRow:
    """The newest message queued for a chat."""
    return (await to(core, chat_id))[-1]


async def building_id(core: Core) -> int:
    async with core.uow() as uow:
        chat = await uow.chats.get(BUILDING_CHAT.chat_id)
        assert chat is not None and chat.building_id is not None
        return chat.building_id


async def test_unknown_building_is_asked_once_remembered_and_changed(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    s = core.services
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "电梯坏了，老人下不了楼"))
    ask = await last(core, PRIVATE.chat_id)
    assert ask.text.startswith("请问你住在哪一栋") and "3栋" in [b["t"] for b in buttons(ask)]
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "已经两天了"))
    again = await last(core, PRIVATE.chat_id)
    assert again.text.startswith("请先点上面的按钮") and not again.buttons  # asked once, not twice
    assert await cases(core) == []
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(ask, "3栋")))
    (case,) = await cases(core)
    assert case.building_id == await building_id(core) and case.source == "private"
    assert "已经两天了" in case.text and case.reporter_name == RESIDENT.name
    assert (await last(core, PRIVATE.chat_id)).text.startswith("如需补充")
    card = next(r for r in await to(core, PRIVATE.chat_id) if r.ref == "case:1:card")
    assert card.text.startswith("已登记 #1 · 报修 · 3栋")
    staff = [r.text for r in await to(core, STAFF_CHAT.chat_id)]
    assert any("居民私信报事" in t for t in staff) and any("老人下不了楼" in t for t in staff)
    assert not [r for r in await to(core, BUILDING_CHAT.chat_id) if "#1" in r.text]  # nothing posted in the group
    # remembered: the next report is not asked about the building
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "楼下路灯坏了"))
    assert len(await cases(core)) == 2
    assert not any(r.text.startswith("请问你住在哪一栋") for r in (await to(core, PRIVATE.chat_id))[1:])
    # /mybuilding changes it
    await s.handle_command(ev.command(ChatRef(-1005, "supergroup", "5栋业主群"), ADMIN, "bind", "5栋"))
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "mybuilding"))
    menu = await last(core, PRIVATE.chat_id)
    assert "你的楼栋：3栋" in menu.text
    answer = await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(menu, "5栋")))
    assert answer.text == "楼栋：5栋"
    three = await building_id(core)
    async with core.uow() as uow:
        chosen = await uow.reports.building_of(RESIDENT.user_id)
        assert chosen is not None and chosen != three


async def test_guided_report_with_photo_and_cancel(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    s = core.services
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "start", f"b{await building_id(core)}"))
    assert "已设为「3栋」" in (await last(core, PRIVATE.chat_id)).text
    # /cancel at a step ends the flow; nothing is opened
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "report"))
    step1 = await last(core, PRIVATE.chat_id)
    assert step1.text.startswith("第 1 步") and "报修" in [b["t"] for b in buttons(step1)]
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(step1, "报修")))
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "cancel"))
    assert (await last(core, PRIVATE.chat_id)).text == "已取消。"
    stale = await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(step1, "报修")))
    assert "重新发送 /report" in stale.text
    # the whole flow
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "report"))
    step1 = await last(core, PRIVATE.chat_id)
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "5楼楼道路灯坏了三天"))  # written before the category
    assert (await last(core, PRIVATE.chat_id)).text == "请点上面的按钮继续，或发送 /cancel 取消。"
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(step1, "报修")))
    photo_step = await last(core, PRIVATE.chat_id)  # the description was kept: step 2 is not asked
    assert photo_step.text.startswith("第 3 步")
    refused = await s.handle_press(ev.press(PRIVATE, NEIGHBOUR, data_of(photo_step, "跳过")))
    assert refused.text == "只有发这条消息的人可以选择。"
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "", media="photo", file_id=PHOTO))
    location_step = await last(core, PRIVATE.chat_id)
    assert location_step.text.startswith("第 4 步")
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "", media="location", location=(31.2304, 121.4737)))
    anon_step = await last(core, PRIVATE.chat_id)
    assert anon_step.text.startswith("第 5 步")
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(anon_step, "实名")))
    confirm = await last(core, PRIVATE.chat_id)
    assert "照片：1 张；位置：有" in confirm.text and "身份：实名" in confirm.text
    assert await cases(core) == []
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(confirm, "提交")))
    (case,) = await cases(core)
    assert case.category == "repair" and case.text == "5楼楼道路灯坏了三天" and case.reporter_name == RESIDENT.name
    staff = await to(core, STAFF_CHAT.chat_id)
    photo = next(r for r in staff if r.media_kind == MediaKind.PHOTO.value)
    assert photo.media == PHOTO and photo.text == "#1 现场照片"
    assert any("openstreetmap.org/?mlat=31.230400&mlon=121.473700" in r.text for r in staff)
    assert not [r for r in await outbox(core) if r.media == PHOTO and r.chat_id < 0 and r.chat_id != STAFF_CHAT.chat_id]


async def test_anonymous_dispute_is_relayed_and_never_names_the_reporter(core: Core, ev: Events) -> None:
    core.deps.classifier = TableClassifier({"装修噪音": ("dispute", False, 0.9), "电梯坏了": ("repair", False, 0.9)})
    await setup_community(core, ev)
    s = core.services
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "start", f"b{await building_id(core)}"))
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "楼上装修噪音太大，天天吵到半夜"))
    (case,) = await cases(core)
    assert case.category == "dispute" and case.reporter_name == "匿名居民" and case.reporter_id == RESIDENT.user_id
    assert "已按匿名处理" in (await last(core, PRIVATE.chat_id)).text
    staff = await to(core, STAFF_CHAT.chat_id)
    extra = next(r for r in staff if r.ref == "case:1:extra")
    assert "反映人要求匿名" in extra.text
    assert not any(RESIDENT.name in r.text for r in staff)
    # staff write through the bot; the resident sees no staff name
    await s.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, data_of(extra, "通过机器人联系反映人")))
    await s.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "您好，请问噪音一般几点开始？"))
    relayed = await last(core, PRIVATE.chat_id)
    assert relayed.text == "工作人员关于 #1 的留言：\n您好，请问噪音一般几点开始？" and VOLUNTEER.name not in relayed.text
    assert (await last(core, STAFF_CHAT.chat_id)).text == "已转达给 #1 的反映人。"
    other = await s.handle_press(ev.press(PRIVATE, NEIGHBOUR, data_of(relayed, "回复")))
    assert other.text == "只能查看和补充自己反映的事项。"
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(relayed, "回复")))
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "晚上十点以后"))
    back = await last(core, STAFF_CHAT.chat_id)
    assert back.text == "#1 反映人回复：\n晚上十点以后" and RESIDENT.name not in back.text
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(relayed, "回复")))  # answered only after the case ends
    # resolved: the echo goes to the reporter privately; no group message names them
    await s.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    await s.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "已与楼上住户沟通，晚十点后停工"))
    assert any(r.ref == "case:1:echo" for r in await to(core, PRIVATE.chat_id))
    assert not any(RESIDENT.name in r.text for r in await to(core, BUILDING_CHAT.chat_id))
    assert not any("#1" in r.text for r in await to(core, BUILDING_CHAT.chat_id))
    await s.handle_press(ev.press(PRIVATE, RESIDENT, "c1:rate:1:good"))
    # a relay to the closed case: a clear answer for staff; the resident's words become a new report
    closed = await s.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, data_of(extra, "通过机器人联系反映人")))
    assert closed.text == "#1 已经结束，不能再通过机器人转达。"
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "楼下装修噪音又来了"))
    assert any(r.text == "#1 已经结束，这条消息按新的报事处理。" for r in await to(core, PRIVATE.chat_id))
    assert [(c.number, c.category, c.status) for c in await cases(core)] == [(1, "dispute", "closed"), (2, "dispute", "open")]
    late = await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(relayed, "回复")))
    assert late.text == "#1 已经结束，不能再通过机器人转达。"


async def test_comment_on_open_case_reaches_the_assignee_and_history(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    s = core.services
    await s.handle_command(ev.command(VOLUNTEER_PRIVATE, VOLUNTEER, "start"))
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "start", f"b{await building_id(core)}"))
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "3栋电梯坏了"))
    await s.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:claim:1"))
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "mycases"))
    mine = await last(core, PRIVATE.chat_id)
    assert "#1 · 报修 · 已接单 · 最新：接单" in mine.text
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(mine, "#1")))
    history = await last(core, PRIVATE.chat_id)
    assert "居民反映" in history.text and "接单" in history.text
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(history, "补充说明或照片")))
    assert (await last(core, PRIVATE.chat_id)).force_reply
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "电梯还发出异响", media="photo", file_id=PHOTO))
    told = await last(core, VOLUNTEER.user_id)
    assert told.text == "#1 反映人补充：电梯还发出异响" and told.media == PHOTO
    assert (await last(core, PRIVATE.chat_id)).text == "已补充到 #1，并告知办理人。"
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "mycases"))
    assert "最新：反映人补充：电梯还发出异响" in (await last(core, PRIVATE.chat_id)).text
    stranger = await s.handle_press(ev.press(PRIVATE, NEIGHBOUR, data_of(mine, "#1")))
    assert stranger.text == "只能查看和补充自己反映的事项。"


async def test_staff_open_a_case_for_a_phone_call(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    s = core.services
    await s.handle_command(ev.command(STAFF_CHAT, VOLUNTEER, "open", "3栋 电话 5楼路灯坏了，住户来电"))
    (case,) = await cases(core)
    assert case.source == "phone" and case.building_id == await building_id(core)
    assert case.reporter_name == "电话来电（李明 代登记）"
    staff = [r.text for r in await to(core, STAFF_CHAT.chat_id)]
    assert any(t.startswith("已登记 #1 · 报修 · 3栋") for t in staff) and any("#1 电话登记" in t for t in staff)
    for args, expected in (
        ("3栋 电话", "用法：/open"),
        ("3栋 微信 路灯坏了", "用法：/open"),
        ("9栋 巡查 路灯坏了", "没有叫「9栋」的楼栋"),
    ):
        await s.handle_command(ev.command(STAFF_CHAT, VOLUNTEER, "open", args))
        assert expected in (await last(core, STAFF_CHAT.chat_id)).text
    await s.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "open", "3栋 电话 路灯坏了"))
    assert "只有值班人员" in (await last(core, BUILDING_CHAT.chat_id)).text
    assert len(await cases(core)) == 1


async def test_bad_input_gets_clear_answers_and_nothing_is_lost(core: Core, ev: Events, clock: ManualClock) -> None:
    await setup_community(core, ev)
    s = core.services
    core.deps.rules.private.building_locations = {"3栋": (31.2304, 121.4737)}
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "start", f"b{await building_id(core)}"))
    # a photo without caption: asked what the problem is, then given up politely after a few tries
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "", media="photo", file_id=PHOTO))
    assert (await last(core, PRIVATE.chat_id)).text == "收到。请用一句话说说是什么问题？"
    for _ in range(3):
        await s.handle_message(ev.message(PRIVATE, RESIDENT, "", media="photo", file_id=PHOTO))
    assert (await last(core, PRIVATE.chat_id)).text.startswith("一直没收到问题描述")
    # ... or after a while, by the sweep
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "", media="photo", file_id=PHOTO))
    clock.advance(minutes=31)
    assert await core.services.private.sweep(False) == 1
    assert (await last(core, PRIVATE.chat_id)).text.startswith("一直没收到问题描述")
    assert await cases(core) == []
    # a photo answered with text becomes the report
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "", media="photo", file_id=PHOTO))
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "电梯坏了"))
    assert len(await cases(core)) == 1
    # a location far from every building: said clearly, kept
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "", media="location", location=(39.9042, 116.4074)))
    texts = [r.text for r in (await to(core, PRIVATE.chat_id))[-2:]]
    assert any("离小区的楼栋较远" in t for t in texts) and texts[-1] == "收到。请用一句话说说是什么问题？"
    await s.handle_command(ev.command(PRIVATE, RESIDENT, "cancel"))
    # a forwarded message: asked before registering; in a group it opens nothing
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "通知：明天停水", forwarded=True))
    forwarded = await last(core, PRIVATE.chat_id)
    assert forwarded.text.startswith("这是转发来的消息")
    await s.handle_press(ev.press(PRIVATE, RESIDENT, data_of(forwarded, "不用登记")))
    await s.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "路灯坏了", forwarded=True))
    assert len(await cases(core)) == 1
    # chat in private gets a hint, not a case
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "你好"))
    assert (await last(core, PRIVATE.chat_id)).text.startswith("收到。如果要反映问题")


async def test_resident_of_no_known_building_still_reaches_staff(core: Core, ev: Events, clock: ManualClock) -> None:
    await setup_community(core, ev)
    s = core.services
    stranger = ChatRef(NEIGHBOUR.user_id, "private", NEIGHBOUR.name)
    await s.handle_message(ev.message(stranger, NEIGHBOUR, "路灯坏了"))
    ask = await last(core, stranger.chat_id)
    await s.handle_press(ev.press(stranger, NEIGHBOUR, data_of(ask, "都不是 / 不在本小区")))
    (case,) = await cases(core)
    assert case.building_id is None
    assert any("如果你不住在" in r.text for r in await to(core, stranger.chat_id))
    assert any("#1" in r.text for r in await to(core, STAFF_CHAT.chat_id))
    # never answering the building question loses nothing: after a while it goes on without one
    await s.handle_message(ev.message(PRIVATE, RESIDENT, "电梯坏了，老人下不了楼"))
    clock.advance(minutes=31)
    assert await s.private.sweep(False) == 1
    assert (await to(core, PRIVATE.chat_id))[-3].text.startswith("你还没选楼栋")
    second = (await cases(core))[1]
    assert second.building_id is None and second.reporter_id == RESIDENT.user_id
    # a private case is never read out in a group
    await s.handle_command(ev.command(BUILDING_CHAT, NEIGHBOUR, "case", "2"))
    public = (await last(core, BUILDING_CHAT.chat_id)).text
    assert "私信反映，详情不公开" in public and "老人" not in public and RESIDENT.name not in public


async def test_help_in_a_building_group_carries_the_deep_link(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    core.deps.profile.username = "linli_bot"
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "help"))
    help_reply = await last(core, BUILDING_CHAT.chat_id)
    (link,) = buttons(help_reply)
    assert link == {"t": "私信报事", "u": f"https://t.me/linli_bot?start=b{await building_id(core)}"}
    assert "私信报事" in help_reply.text
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋电梯坏了"))
    card = next(r for r in await outbox(core) if r.ref == "case:1:card")
    assert buttons(card) == [link]
    # the card is edited as the case moves on (接单 here) and keeps the button
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:claim:1"))
    edits = [r for r in await outbox(core) if r.kind == "edit" and r.edit_of == card.id]
    assert edits and all(buttons(edit) == [link] for edit in edits)
    await core.services.handle_command(ev.command(PRIVATE, RESIDENT, "help"))
    assert "/report" in (await last(core, PRIVATE.chat_id)).text
    await core.services.handle_command(ev.command(PRIVATE, RESIDENT, "start", "b999"))
    assert "这个链接已失效" in (await last(core, PRIVATE.chat_id)).text
    async with core.uow() as uow:
        assert await uow.reports.building_of(RESIDENT.user_id) is None
    await core.services.handle_command(ev.command(STAFF_CHAT, VOLUNTEER, "help"))
    assert "/open 楼栋 来源 描述" in (await last(core, STAFF_CHAT.chat_id)).text
