"""An overdue case escalates through the real framework and the simulator: the resident is told
publicly without names, and the top of the ladder is mentioned in the staff group."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from storage.models import CaseRow
from tests.e2e.conftest import RESIDENT_ID, World


async def test_overdue_case_is_escalated_once(world: World) -> None:
    w, client = world, world.client
    report = await w.say(w.building, RESIDENT_ID, "3栋2单元电梯坏了，老人下不了楼")
    await w.reply_of(w.building, report)
    core = w.runner.core
    now = core.deps.clock.now()
    async with core.uow() as uow:  # the bot was down for a day: the case is an hour past due
        assert uow.session is not None
        await uow.session.execute(
            update(CaseRow).values(
                created_at=now - timedelta(hours=25), due_at=now - timedelta(hours=1), next_reminder_at=now
            )
        )
        await uow.commit()
    await w.runner.sweep_reminders()
    public = await client.wait_for_bot_message(w.building, lambda m: "已升级处理" in m["text"])
    assert public["reply_to_message"]["message_id"] == report["message_id"]
    staff = await client.wait_for_bot_message(w.staff, lambda m: "已超过办理时限" in m["text"])
    assert staff["text"].startswith("请 周红 留意") and "社区管理员" in staff["text"]
    assert [b["text"] for b in staff["reply_markup"]["inline_keyboard"][0]] == ["接单", "办结", "说明情况"]
    await w.runner.sweep_reminders()
    async with core.uow() as uow:
        case = await uow.cases.get(1)
    assert case is not None and case.escalation_level == 3 and case.next_reminder_at is None


async def test_shift_start_reminder_reaches_the_staff_group(world: World) -> None:
    from bot.core.duty import RosterPerson, Shift
    from bot.core.roles import ScopeKind

    w, client, core = world, world.client, world.runner.core
    now = core.deps.clock.now()
    async with core.uow() as uow:  # 李明 has never opened a private chat: he is mentioned in the staff group
        community = await uow.communities.default()
        person, _ = await uow.duty.save_person(RosterPerson(None, community.id, "13800000001", "李明", user_id=2001))
        await uow.duty.add_shift(
            Shift(None, person.id or 0, now + timedelta(minutes=10), now + timedelta(hours=4), ScopeKind.COMMUNITY)
        )
        await uow.commit()
    await w.runner.sweep_reminders()
    notice = await client.wait_for_bot_message(w.staff, lambda m: "值班即将开始" in m["text"])
    assert notice["text"].startswith("请 李明 留意") and "全社区" in notice["text"]
