"""Activities at the service layer: the guided dialogue, sign-ups at capacity, the waiting list,
announcements before the start, recurring occurrences across a month boundary, check-in and points."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.bootstrap import Core
from bot.core.activities import ActivityStatus, SignupStatus
from bot.core.clock import ManualClock
from bot.core.events import Actor, ChatRef
from bot.core.model import PRIORITY_BROADCAST
from tests.conftest import ADMIN, BUILDING_CHAT, RESIDENT, STAFF_CHAT, Events
from tests.services.test_case_flow import outbox as rows

ADMIN_PM = ChatRef(ADMIN.user_id, "private", "")
PEOPLE = [Actor(3000 + n, f"居民{n}") for n in range(8)]


async def last(core: Core) -> str:
    return (await rows(core))[-1].text


async def say(core: Core, ev: Events, text: str) -> str:
    """The admin answers the dialogue in private (a few seconds apart); returns the bot's latest message."""
    core.deps.clock.advance(seconds=10)  # type: ignore[attr-defined]
    await core.services.handle_message(ev.message(ADMIN_PM, ADMIN, text))
    return await last(core)


async def bound(core: Core, ev: Events) -> None:
    await core.services.handle_command(ev.command(BUILDING_CHAT, ADMIN, "bind", "3栋"))
    await core.services.handle_command(ev.command(STAFF_CHAT, ADMIN, "bind", "staff"))


async def create(core: Core, ev: Events, when: str, capacity: str = "3") -> None:
    """Run the dialogue with good answers and publish."""
    await core.services.handle_command(ev.command(ADMIN_PM, ADMIN, "activity"))
    for answer in ("邻里义诊", when, "中心广场", "3栋", capacity):
        await say(core, ev, answer)
    activity_id = max(int(r.ref.split(":")[1]) for r in await rows(core) if (r.ref or "").startswith("actq:"))
    answer = await core.services.handle_press(ev.press(ADMIN_PM, ADMIN, f"c1:actpub:{activity_id}"))
    assert "已发布到 1 个群" in answer.text


async def test_dialogue_refuses_bad_answers_and_cancel_ends_it(core: Core, ev: Events) -> None:
    await bound(core, ev)
    s = core.services
    await s.handle_command(ev.command(BUILDING_CHAT, ADMIN, "activity"))
    assert "请在与机器人的私聊中" in await last(core)
    await s.handle_command(ev.command(ChatRef(RESIDENT.user_id, "private", ""), RESIDENT, "activity"))
    assert "只有社区管理员" in await last(core)

    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "activity"))
    assert "第 1 步" in await last(core)
    assert "第 2 步" in await say(core, ev, "邻里义诊\n免费量血压、测血糖")
    assert "看不懂“随便哪天”" in await say(core, ev, "随便哪天")
    assert "日期“11月31日”不存在" in await say(core, ev, "11月31日 10点")
    assert "已经过去了" in await say(core, ev, "今天 上午9点")  # the clock says 10:00 in Shanghai
    assert "请写上几点" in await say(core, ev, "周六")
    assert "第 3 步" in await say(core, ev, "11月28日 下午3点")
    assert "第 4 步" in await say(core, ev, "中心广场")
    assert "不认识“9栋”" in await say(core, ev, "9栋")
    assert "第 5 步" in await say(core, ev, "3栋")
    assert "大于 0 的整数（收到：0）" in await say(core, ev, "0")
    assert "收到：-3" in await say(core, ev, "-3")
    preview = await say(core, ev, "30")
    assert preview.startswith("预览：") and "11月28日（周六）15:00" in preview and "已报名 0/30" in preview
    assert "免费量血压" in preview
    async with core.uow() as uow:
        assert await uow.dialogues.get(ADMIN.user_id, ADMIN.user_id) is None
        draft = await uow.activities.get(1)
        assert draft is not None and draft.status == ActivityStatus.DRAFT
        assert draft.starts_at == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # stored in UTC

    # A second dialogue is abandoned with /cancel: the next message is not an answer.
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "activity"))
    await say(core, ev, "读书会")
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "cancel"))
    await say(core, ev, "周五 19:30")
    async with core.uow() as uow:
        left = await uow.dialogues.get(ADMIN.user_id, ADMIN.user_id)
        assert left is None or left.kind != "activity"
        assert await uow.activities.get(2) is None
    answer = await s.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:actdrop:1"))
    assert "已取消" in answer.text
    assert not [r for r in await rows(core) if r.ref == "act:1"]


async def test_sign_ups_at_capacity_never_overbook_and_the_waiting_list_is_promoted(core: Core, ev: Events) -> None:
    await bound(core, ev)
    await create(core, ev, "11月28日 下午3点", capacity="3")
    (announcement,) = [r for r in await rows(core) if r.ref == "act:1"]
    assert announcement.chat_id == BUILDING_CHAT.chat_id and announcement.priority == PRIORITY_BROADCAST
    assert "c1:join:1" in (announcement.buttons or "") and "c1:leave:1" in (announcement.buttons or "")
    async with core.uow() as uow:
        for person in PEOPLE:
            await uow.members.seen(person.user_id, person.name, None)
            await uow.members.set_private_chat(person.user_id, True)
        await uow.commit()

    presses = [ev.press(BUILDING_CHAT, person, "c1:join:1", message_id=77) for person in PEOPLE]
    answers = await asyncio.gather(*(core.services.handle_press(p) for p in presses))
    assert sum(a.text.startswith("报名成功") for a in answers) == 3
    assert sorted(a.text for a in answers if "候补" in a.text)[0].startswith("名额已满，你在候补第 1 位")
    async with core.uow() as uow:
        signups = await uow.activities.signups(1)
    going = [s for s in signups if s.status == SignupStatus.GOING]
    waiting = [s for s in signups if s.status == SignupStatus.WAITING]
    assert len(going) == 3 and len(waiting) == 5
    (edit,) = [r for r in await rows(core) if r.target_message_id == 77]  # eight presses, one edit waiting
    assert edit.kind == "edit" and "已报名 3/3，候补 5 人" in edit.text

    again = await core.services.handle_press(ev.press(BUILDING_CHAT, PEOPLE[0], "c1:join:1"))
    assert again.text in ("你已经报名了。", "你已在候补名单中。")
    leaver = next(p for p in PEOPLE if p.user_id == going[0].user_id)
    await core.services.handle_press(ev.press(BUILDING_CHAT, leaver, "c1:leave:1"))
    promoted = waiting[0]
    async with core.uow() as uow:
        assert (await uow.activities.signup_of(1, promoted.user_id)).status == SignupStatus.GOING  # type: ignore[union-attr]
        assert (await uow.activities.signup_of(1, leaver.user_id)).status == SignupStatus.CANCELLED  # type: ignore[union-attr]
    note = next(r for r in reversed(await rows(core)) if r.chat_id == promoted.user_id)
    assert "你已从候补转为正式报名：邻里义诊" in note.text
    # A waiting person leaving frees no place: nobody is promoted; the count stays 3 going.
    quitter = next(p for p in PEOPLE if p.user_id == waiting[1].user_id)
    await core.services.handle_press(ev.press(BUILDING_CHAT, quitter, "c1:leave:1"))
    async with core.uow() as uow:
        states = [s.status for s in await uow.activities.signups(1)]
    assert states.count(SignupStatus.GOING) == 3 and states.count(SignupStatus.WAITING) == 3
    nobody = await core.services.handle_press(ev.press(BUILDING_CHAT, quitter, "c1:leave:1"))
    assert "没有报名" in nobody.text

    # The sweep brings every announcement up to date with one edit per copy.
    await core.services.activities.sweep(False)
    refreshed = (await rows(core))[-1]
    assert refreshed.kind == "edit" and refreshed.edit_of == announcement.id and "已报名 3/3，候补 3 人" in refreshed.text


async def test_announcements_before_start_and_weekly_occurrences_across_a_month_boundary(
    core: Core, ev: Events, clock: ManualClock
) -> None:
    await bound(core, ev)
    await create(core, ev, "每周五 19:30")  # the clock says Friday 2026-11-20 10:00 Shanghai: tonight
    async with core.uow() as uow:
        first = await uow.activities.get(1)
    assert first is not None and first.rule == "30 19 * * fri"
    assert first.starts_at == datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
    assert first.next_notice_at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)  # an hour before (the day before is past)

    clock.advance(hours=8, minutes=31)  # 18:31 Shanghai: the hour-before notice
    await core.services.activities.sweep(False)
    soon = [r for r in await rows(core) if r.ref == "act:1" and r.kind == "send"]
    assert len(soon) == 2 and soon[-1].text.startswith("⏰ 活动即将开始")

    # Each start creates and announces the next occurrence; the second one crosses into December.
    for moment in (datetime(2026, 11, 20, 11, 31, tzinfo=UTC), datetime(2026, 11, 27, 11, 31, tzinfo=UTC)):
        clock._now = moment
        await core.services.activities.sweep(False)
    async with core.uow() as uow:
        starts = [(a.id, a.starts_at, a.rule) for a in [await uow.activities.get(i) for i in (1, 2, 3)] if a]
    assert starts == [
        (1, datetime(2026, 11, 20, 11, 30, tzinfo=UTC), None),
        (2, datetime(2026, 11, 27, 11, 30, tzinfo=UTC), None),
        (3, datetime(2026, 12, 4, 11, 30, tzinfo=UTC), "30 19 * * fri"),
    ]
    december = [r for r in await rows(core) if r.ref == "act:3" and r.kind == "send"]
    assert len(december) == 1 and "12月4日（周五）19:30" in december[0].text


async def test_check_in_earns_points_once_and_redemptions_and_leaderboard(core: Core, ev: Events, clock: ManualClock) -> None:
    await bound(core, ev)
    await create(core, ev, "今天 下午3点")
    async with core.uow() as uow:
        code = (await uow.activities.get(1)).checkin_code  # type: ignore[union-attr]
    for person in PEOPLE[:2]:
        await core.services.handle_press(ev.press(BUILDING_CHAT, person, "c1:join:1"))
    pm = ChatRef(PEOPLE[0].user_id, "private", "")
    await core.services.handle_command(ev.command(pm, PEOPLE[0], "checkin", str(code)))
    assert "现在不在签到时间" in await last(core)  # 10:00, five hours before the start
    clock.advance(hours=4)
    await core.services.handle_command(ev.command(pm, PEOPLE[0], "checkin", "000"))
    assert "签到码不对" in await last(core)
    await core.services.handle_command(ev.command(pm, PEOPLE[0], "checkin", str(code)))
    assert await last(core) == "签到成功：邻里义诊，获得 10 积分。"
    await core.services.handle_command(ev.command(pm, PEOPLE[0], "checkin", str(code)))
    assert "已经签到过了" in await last(core)
    outsider = ChatRef(RESIDENT.user_id, "private", "")
    await core.services.handle_command(ev.command(outsider, RESIDENT, "checkin", str(code)))
    assert "没有报名" in await last(core)

    # The organiser's list: a press marks the second person; pressing again credits nothing more.
    await core.services.handle_command(ev.command(ADMIN_PM, ADMIN, "checkin", "#1"))
    listing = (await rows(core))[-1]
    assert "签到名单（2 人）" in listing.text and "c1:attend:2" in (listing.buttons or "")
    marked = await core.services.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:attend:2", message_id=55))
    assert marked.text == "居民1 已签到，获得 10 积分"
    sheet = (await rows(core))[-1]
    assert sheet.kind == "edit" and sheet.target_message_id == 55 and "✅ 居民1" in (sheet.buttons or "")
    again = await core.services.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:attend:2"))
    assert again.text == "居民1 已签到，获得 0 积分"
    refused = await core.services.handle_press(ev.press(pm, PEOPLE[0], "c1:attend:2"))
    assert "只有社区管理员" in refused.text

    await core.services.handle_command(ev.command(pm, PEOPLE[0], "points"))
    mine = await last(core)
    assert "居民0 的志愿积分：10" in mine and "+10 参加活动：邻里义诊" in mine
    await core.services.handle_command(ev.command(pm, PEOPLE[0], "points", "公开"))
    await core.services.handle_command(ev.command(pm, PEOPLE[0], "leaderboard"))
    board = await last(core)
    assert board.startswith("11 月志愿者积分榜") and "居民0 10 分" in board and "（未公开姓名的志愿者） 10 分" in board
    assert "居民1" not in board

    await core.services.handle_command(ev.command(ADMIN_PM, PEOPLE[1], "redeem", f"{PEOPLE[0].user_id} 5 大米"))
    assert "只有社区管理员" in await last(core)
    await core.services.handle_command(ev.command(ADMIN_PM, ADMIN, "redeem", f"{PEOPLE[0].user_id} 50 大米一袋"))
    assert "只有 10 积分，不够兑换 50" in await last(core)
    await core.services.handle_command(ev.command(ADMIN_PM, ADMIN, "redeem", f"{PEOPLE[0].user_id} 6"))
    assert "请写明兑换原因" in await last(core)
    await core.services.handle_command(ev.command(ADMIN_PM, ADMIN, "redeem", f"{PEOPLE[0].user_id} 6 兑换大米一袋"))
    assert await last(core) == "已为 居民0 兑换 6 积分：兑换大米一袋。剩余 4 积分。"
    await core.services.handle_command(ev.command(pm, PEOPLE[0], "points"))
    assert "-6 兑换大米一袋" in await last(core)


async def test_volunteers_earn_points_for_resolved_cases_once(core: Core, ev: Events, clock: ManualClock) -> None:
    from tests.conftest import VOLUNTEER
    from tests.services.test_case_flow import setup_community

    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:claim:1"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    clock.advance(minutes=5)
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "已联系电梯公司更换控制板"))
    assert await core.services.points.credit_cases(False) == 1
    assert await core.services.points.credit_cases(False) == 0  # once per case
    async with core.uow() as uow:
        assert await uow.points.balance(VOLUNTEER.user_id) == 5  # repair: case_resolved 5, no bonus
        (entry,) = await uow.points.history(VOLUNTEER.user_id)
    assert entry.reason == "办结诉求 #1（报修）" and entry.kind == "case"


async def test_the_dialogue_survives_a_restart(core: Core, ev: Events, clock: ManualClock, tmp_path: Path) -> None:
    from bot.bootstrap import build_core
    from bot.config import Settings
    from tests.conftest import sqlite_url
    from tests.fakes import TableClassifier

    await bound(core, ev)
    await core.services.handle_command(ev.command(ADMIN_PM, ADMIN, "activity"))
    await say(core, ev, "邻里义诊")
    await say(core, ev, "11月28日 下午3点")
    await core.engine.dispose()  # the process stops; another one (or another instance) continues
    settings = Settings(_env_file=None, database_url=sqlite_url(tmp_path), admin_ids=[ADMIN.user_id])
    again = await build_core(settings, clock=clock, classifier=TableClassifier())
    try:
        assert "第 4 步" in await say(again, ev, "中心广场")
        assert "第 5 步" in await say(again, ev, "全体")
        assert "11月28日（周六）15:00" in await say(again, ev, "20")
    finally:
        await again.engine.dispose()


async def test_sign_up_deadline_is_checked_and_enforced(core: Core, ev: Events, clock: ManualClock) -> None:
    await bound(core, ev)
    await core.services.handle_command(ev.command(ADMIN_PM, ADMIN, "activity"))
    await say(core, ev, "冬至包饺子")
    refused = await say(core, ev, "11月28日 下午3点 截止 11月29日 18:00")
    assert "报名截止时间 11月29日（周日）18:00 要在现在之后、活动开始（11月28日（周六）15:00）之前" in refused
    assert "第 3 步" in await say(core, ev, "11月28日 下午3点，报名截止 11月27日 18:00")
    for answer in ("社区食堂", "全体"):
        await say(core, ev, answer)
    assert "⏳ 报名截止 11月27日（周五）18:00" in await say(core, ev, "20")
    await core.services.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:actpub:1"))
    assert (await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:join:1"))).text.startswith("报名成功")
    clock._now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai: the deadline
    late = await core.services.handle_press(ev.press(BUILDING_CHAT, PEOPLE[0], "c1:join:1"))
    assert late.text == "报名已截止。"
