"""Roster and rota import, /join, /duty and /rota, routing, and the reminder and escalation sweep."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.bootstrap import Core, build_core
from bot.core.clock import ManualClock
from bot.core.events import Actor, ChatRef, IncomingMessage
from bot.services.roster import ROSTER_HEADERS, ROTA_HEADERS, ImportFileError, RosterImport, read_table
from storage.models import RosterRow, ShiftRow
from tests.conftest import ADMIN, BUILDING_CHAT, RESIDENT, STAFF_CHAT, VOLUNTEER2, Events
from tests.services.test_case_flow import cases, outbox

DATA = Path(__file__).resolve().parents[1] / "data"
HEAD = VOLUNTEER2  # 王强, building head of 3栋 in roster_good.csv
GRID = Actor(2003, "赵网格")
CHIEF = Actor(2004, "孙书记")


def private(actor: Actor) -> ChatRef:
    """The private chat of a person with the bot."""
    return ChatRef(actor.user_id, "private", "")


async def import_file(core: Core, name: str, *, rota: bool = False, skip_errors: bool = False) -> str:
    """Import a test file as the CLI does; returns the report text."""
    rows = read_table(DATA / name, ROTA_HEADERS if rota else ROSTER_HEADERS)
    importer = RosterImport(core.deps, core.services.cases.release_cases_of)
    async with core.uow() as uow:
        run = importer.import_rota if rota else importer.import_roster
        report = await run(uow, rows, skip_errors=skip_errors)
        if report.imported:
            await uow.commit()
    return importer.describe(report)


async def count(core: Core, model: type) -> int:
    """Rows in a table."""
    async with core.uow() as uow:
        assert uow.session is not None
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def setup_rota(core: Core, ev: Events) -> None:
    """3栋 in 一网格, its group and the staff group bound, the roster imported."""
    s = core.services
    await s.handle_command(ev.command(BUILDING_CHAT, ADMIN, "bind", "3栋"))
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "bind", "staff"))
    async with core.uow() as uow:
        community = await uow.communities.default()
        building = await uow.buildings.get_or_create(community.id, "3栋")
        await uow.buildings.place_in_grid(building.id, "一网格")
        await uow.commit()
    assert "新增 5" in await import_file(core, "roster_good.csv")


# ---- import ------------------------------------------------------------------------------------


async def test_roster_import_links_ids_gives_invite_codes_and_is_idempotent(core: Core, ev: Events) -> None:
    await setup_rota(core, ev)
    async with core.uow() as uow:
        head = await uow.members.get(HEAD.user_id)
        li = await uow.members.get(2001)
    assert head is not None and head.has_role(head.main_role()) and head.main_role().value == "building_head"
    assert li is not None and {g.role.value for g in li.roles} == {"volunteer", "building_head"}
    again = await import_file(core, "roster_good.csv")
    assert "新增 0，更新 0，未变 5" in again
    assert await count(core, RosterRow) == 5


async def test_bad_roster_rows_are_all_reported_and_nothing_imported(core: Core) -> None:
    report = await import_file(core, "roster_bad.csv")
    assert "第 2 行：缺少姓名" in report
    assert "第 3 行：电话号码不对：12AB" in report
    assert "第 4 行：不认识的角色：厨师" in report
    assert "第 5 行：Telegram ID 要是数字：abc" in report
    assert "什么都没有导入" in report and await count(core, RosterRow) == 0
    skipped = await import_file(core, "roster_bad.csv", skip_errors=True)
    assert "新增 1" in skipped and "跳过错误行 4" in skipped
    assert await count(core, RosterRow) == 1


async def test_gbk_roster_is_read(core: Core) -> None:
    assert "新增 1" in await import_file(core, "roster_gbk.csv")
    async with core.uow() as uow:
        (person,) = await uow.duty.people((await uow.communities.default()).id)
    assert person.name == "陈阿姨" and person.invite_code


def test_empty_file_is_refused() -> None:
    with pytest.raises(ImportFileError) as refused:
        read_table(DATA / "rota_empty.csv", ROTA_HEADERS)
    assert refused.value.key == "import.empty"


async def test_bad_rota_rows_are_reported_with_line_and_reason(core: Core, ev: Events) -> None:
    await setup_rota(core, ev)
    report = await import_file(core, "rota_bad.csv", rota=True)
    assert "第 3 行：时间不存在：25:00" in report
    assert "第 4 行：李明 的班次时间重叠" in report
    assert "第 5 行：名册里没有这个人：查无此人" in report
    assert "第 6 行：日期不对" in report
    assert await count(core, ShiftRow) == 0
    assert "新增 2" in await import_file(core, "rota_bad.csv", rota=True, skip_errors=True)


async def test_rota_import_is_idempotent_and_reads_xlsx(core: Core, ev: Events) -> None:
    await setup_rota(core, ev)
    assert "新增 4" in await import_file(core, "rota_good.csv", rota=True)
    assert "新增 0，更新 0，未变 4" in await import_file(core, "rota_good.csv", rota=True)
    assert "新增 2" in await import_file(core, "rota.xlsx", rota=True)
    assert await count(core, ShiftRow) == 6


async def test_time_in_a_daylight_saving_gap_is_refused(tmp_path: Path, clock: ManualClock) -> None:
    from bot.config import Settings
    from tests.conftest import sqlite_url
    from tests.fakes import TableClassifier

    settings = Settings(_env_file=None, database_url=sqlite_url(tmp_path), timezone="Europe/Berlin")
    core = await build_core(settings, clock=clock, classifier=TableClassifier())
    try:
        await import_file(core, "roster_good.csv")
        gap = tmp_path / "gap.csv"
        gap.write_text("日期,开始,结束,区域,人员\n2026-03-29,02:30,06:00,社区,李明\n", encoding="utf-8")
        importer = RosterImport(core.deps)
        async with core.uow() as uow:
            report = await importer.import_rota(uow, read_table(gap, ROTA_HEADERS))
        assert report.errors == [(2, "import.time_gap", {"value": "02:30"})]
    finally:
        await core.engine.dispose()


# ---- /join, /duty, /rota, /status ------------------------------------------------------------------


async def test_join_links_the_user_once(core: Core, ev: Events) -> None:
    await import_file(core, "roster_good.csv")
    async with core.uow() as uow:
        community = await uow.communities.default()
        code = (await uow.duty.person_by_key(community.id, "13800000004")).invite_code  # type: ignore[union-attr]
    newcomer, other = Actor(3001, "钱师傅"), Actor(3002, "冒充者")
    await core.services.handle_command(ev.command(BUILDING_CHAT, newcomer, "join", code or ""))
    await core.services.handle_command(ev.command(private(newcomer), newcomer, "join", code or ""))
    await core.services.handle_command(ev.command(private(other), other, "join", code or ""))
    texts = [row.text for row in await outbox(core)]
    assert "请私聊我" in texts[0]
    assert "欢迎，钱物业" in texts[1] and "物业" in texts[1]
    assert "无效或已经用过" in texts[2]
    async with core.uow() as uow:
        joined = await uow.members.get(3001)
    assert joined is not None and joined.main_role().value == "property"


async def test_duty_and_rota_show_shifts_in_community_time(core: Core, ev: Events) -> None:
    await setup_rota(core, ev)
    await import_file(core, "rota_good.csv", rota=True)
    await core.services.handle_command(ev.command(STAFF_CHAT, RESIDENT, "duty"))
    await core.services.handle_command(ev.command(STAFF_CHAT, RESIDENT, "rota"))
    duty, rota = [row.text for row in await outbox(core)][-2:]
    assert "今日值班（11-20）" in duty
    assert "08:00–12:00 李明（正在值班）" in duty  # the clock is 10:00 in Shanghai
    assert "12:00–18:00 王强" in duty and "（正在值班）" not in duty.split("王强")[1].split("\n")[0]
    assert "本周值班表（11-16 至 11-22）" in rota
    assert "11-21 周六" in rota and "一网格 赵网格" in rota


async def test_status_lists_staff_who_must_press_start(core: Core, ev: Events) -> None:
    await setup_rota(core, ev)
    await core.services.handle_command(ev.command(private(HEAD), HEAD, "start"))
    await core.services.handle_command(ev.command(STAFF_CHAT, ADMIN, "status"))
    status = (await outbox(core))[-1].text
    assert "还不能私聊通知的工作人员" in status
    line = next(line for line in status.splitlines() if "还不能私聊" in line)
    assert "赵网格" in line and "王强" not in line


# ---- routing and reminders ---------------------------------------------------------------------


async def open_repair(core: Core, ev: Events) -> None:
    """A resident reports a broken lift in 3栋."""
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋2单元电梯坏了，老人下不了楼"))


async def new_rows(core: Core, before: int) -> list:  # type: ignore[type-arg]
    """Outbox rows queued after the first ``before``."""
    return (await outbox(core))[before:]


async def test_case_goes_privately_to_reachable_people_and_the_rest_are_mentioned(core: Core, ev: Events) -> None:
    await setup_rota(core, ev)
    await core.services.handle_command(ev.command(private(HEAD), HEAD, "start"))
    before = len(await outbox(core))
    await open_repair(core, ev)
    rows = await new_rows(core, before)
    assert any(r.chat_id == HEAD.user_id and "c1:claim:1" in (r.buttons or "") for r in rows)
    staff = next(r for r in rows if r.chat_id == STAFF_CHAT.chat_id)
    assert staff.text.startswith("请 李明 留意")  # building head without a private chat yet
    card = next(r for r in rows if r.chat_id == BUILDING_CHAT.chat_id)
    assert "值班群" in card.text and "楼栋长 王强" in card.text and "楼栋长 李明" in card.text


async def test_unclaimed_overdue_case_climbs_every_rung_once(core: Core, ev: Events, clock: ManualClock) -> None:
    await setup_rota(core, ev)
    for actor in (HEAD, GRID, CHIEF):
        await core.services.handle_command(ev.command(private(actor), actor, "start"))
    await open_repair(core, ev)
    seen = len(await outbox(core))

    async def sweep_after(**delta: float) -> list:  # type: ignore[type-arg]
        nonlocal seen
        clock.advance(**delta)
        await core.services.sweep_reminders()
        rows = await new_rows(core, seen)
        seen += len(rows)
        return rows

    assert await sweep_after(minutes=10) == []
    claim = await sweep_after(minutes=25)  # claim window (30 min) passed: the building heads are told
    assert {r.chat_id for r in claim} == {HEAD.user_id, STAFF_CHAT.chat_id}
    assert "无人接单" in claim[0].text and "楼栋长" in claim[0].text
    assert await sweep_after(minutes=1) == []
    soon = await sweep_after(hours=22, minutes=30)  # one hour before the due time
    assert any("将于" in r.text for r in soon)
    overdue = await sweep_after(hours=1)
    assert any(r.chat_id == BUILDING_CHAT.chat_id and "已升级处理" in r.text for r in overdue)
    assert all("王强" not in r.text for r in overdue if r.chat_id == BUILDING_CHAT.chat_id)
    assert any(r.chat_id == GRID.user_id and "网格员" in r.text for r in overdue)
    top = await sweep_after(hours=2)
    assert {r.chat_id for r in top} >= {CHIEF.user_id}
    assert await sweep_after(hours=10) == []
    (case,) = await cases(core)
    assert case.next_reminder_at is None and case.escalation_level == 3


async def test_claimed_case_reminds_the_assignee_not_the_next_rung(core: Core, ev: Events, clock: ManualClock) -> None:
    await setup_rota(core, ev)
    await core.services.handle_command(ev.command(private(HEAD), HEAD, "start"))
    await open_repair(core, ev)
    await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:claim:1"))
    before = len(await outbox(core))
    clock.advance(minutes=31)
    await core.services.sweep_reminders()
    assert await new_rows(core, before) == []
    clock.advance(hours=23)
    await core.services.sweep_reminders()
    (reminder,) = await new_rows(core, before)
    assert reminder.chat_id == HEAD.user_id and "将于" in reminder.text


async def test_quiet_hours_hold_non_urgent_reminders_until_morning(core: Core, ev: Events, clock: ManualClock) -> None:
    clock.advance(hours=12, minutes=30)  # 22:30 in Shanghai
    await setup_rota(core, ev)
    await core.services.handle_command(ev.command(private(HEAD), HEAD, "start"))
    await open_repair(core, ev)
    before = len(await outbox(core))
    clock.advance(hours=1)
    await core.services.sweep_reminders()
    assert await new_rows(core, before) == []
    (case,) = await cases(core)
    assert case.next_reminder_at is not None and case.next_reminder_at.hour == 23  # 07:00 Shanghai
    clock.advance(hours=8)  # 07:30
    await core.services.sweep_reminders()
    assert any("无人接单" in r.text for r in await new_rows(core, before))


async def test_urgent_reminders_ignore_quiet_hours(core: Core, ev: Events, clock: ManualClock) -> None:
    clock.advance(hours=13)  # 23:00 in Shanghai
    await setup_rota(core, ev)
    await core.services.handle_command(ev.command(private(HEAD), HEAD, "start"))
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋楼道着火了，冒烟，紧急！"))
    (case,) = await cases(core)
    assert case.urgent
    before = len(await outbox(core))
    clock.advance(hours=1)
    await core.services.sweep_reminders()
    assert await new_rows(core, before) != []


async def test_restart_in_the_middle_sends_nothing_twice(core: Core, ev: Events, clock: ManualClock) -> None:
    await setup_rota(core, ev)
    await core.services.handle_command(ev.command(private(HEAD), HEAD, "start"))
    await open_repair(core, ev)
    clock.advance(minutes=31)
    await core.services.sweep_reminders()
    after_first = len(await outbox(core))
    restarted = await build_core(core.settings, clock=clock, classifier=core.deps.classifier)
    try:
        await restarted.services.sweep_reminders()
        assert len(await outbox(restarted)) == after_first
        clock.advance(days=3)  # down for days: the latest missed stage goes out, once
        await restarted.services.sweep_reminders()
        missed = await new_rows(restarted, after_first)
        assert sum("已升级处理" in r.text for r in missed) == 1
        await restarted.services.sweep_reminders()
        assert len(await outbox(restarted)) == after_first + len(missed)
    finally:
        await restarted.engine.dispose()


async def test_resolved_case_is_no_longer_chased(core: Core, ev: Events, clock: ManualClock) -> None:
    await setup_rota(core, ev)
    await open_repair(core, ev)
    await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:resolve:1"))
    await core.services.handle_message(ev.message(STAFF_CHAT, HEAD, "已经修好了"))
    (case,) = await cases(core)
    assert case.status == "resolved" and case.next_reminder_at is None


async def test_shift_start_reminder_lists_open_cases_of_the_area_once(
    core: Core, ev: Events, clock: ManualClock
) -> None:
    await setup_rota(core, ev)
    await core.services.handle_command(ev.command(private(HEAD), HEAD, "start"))
    await import_file(core, "rota_good.csv", rota=True)
    await open_repair(core, ev)
    before = len(await outbox(core))
    clock.advance(hours=1, minutes=50)  # 11:50, ten minutes before 王强's shift at 12:00
    await core.services.sweep_reminders()
    await core.services.sweep_reminders()
    shift = [r for r in await new_rows(core, before) if "值班即将开始" in r.text]
    mine = [r for r in shift if r.chat_id == HEAD.user_id]
    assert len(mine) == 1 and "12:00–18:00 · 全社区" in mine[0].text and "#1" in mine[0].text
    # 李明's running shift had not been announced either; he has no private chat, so he is mentioned
    (running,) = [r for r in shift if r.chat_id == STAFF_CHAT.chat_id]
    assert running.text.startswith("请 李明 留意") and "08:00–12:00 · 3栋" in running.text


async def test_sweep_uses_the_reminder_index(core: Core) -> None:
    async with core.uow() as uow:
        assert uow.session is not None
        plan = await uow.session.execute(
            text("EXPLAIN QUERY PLAN SELECT * FROM cases WHERE next_reminder_at <= :now ORDER BY next_reminder_at LIMIT 200"),
            {"now": "2026-11-20"},
        )
        detail = " ".join(str(row[-1]) for row in plan)
    assert "ix_cases_next_reminder" in detail


async def test_concurrent_claims_have_exactly_one_winner(core: Core, ev: Events) -> None:
    import asyncio

    await setup_rota(core, ev)
    await open_repair(core, ev)
    presses = [ev.press(STAFF_CHAT, actor, "c1:claim:1") for actor in (HEAD, GRID, CHIEF, Actor(2001, "李明"))]
    answers = await asyncio.gather(*(core.services.handle_press(p) for p in presses))
    assert sum(a.text == "接单成功：#1" for a in answers) == 1
    (case,) = await cases(core)
    assert case.status == "assigned"


def test_every_category_has_a_route_and_bad_rules_are_refused(tmp_path: Path) -> None:
    from bot.config import load_rules
    from nlp.taxonomy import load_taxonomy

    rules = load_rules()
    codes = [code for code in load_taxonomy().codes if code != "none"]
    assert codes and all(code in rules.categories and rules.categories[code].route for code in codes)
    bad = tmp_path / "rules.yaml"
    bad.write_text("categories:\n  repair: {route: [plumber]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown route target"):
        load_rules(bad)


async def test_person_removed_while_holding_cases_hands_them_back(core: Core, ev: Events) -> None:
    await setup_rota(core, ev)
    await open_repair(core, ev)
    await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:claim:1"))
    before = len(await outbox(core))
    await core.services.handle_command(ev.command(STAFF_CHAT, ADMIN, "revoke", "", reply_to=HEAD))
    rows = await new_rows(core, before)
    assert "事项 #1 已退回待接单" in rows[-1].text and rows[-1].chat_id == STAFF_CHAT.chat_id
    assert any(r.kind == "edit" and "c1:claim:1" in (r.buttons or "") for r in rows)
    (case,) = await cases(core)
    assert case.status == "open" and case.assignee_id is None and case.next_reminder_at is not None


# ---- 派单 and 转派 (assign mode: property cases in the shipped rules) ------------------------------


async def open_property_case(core: Core, ev: Events) -> list:  # type: ignore[type-arg]
    """孙书记 and 周红 have started private chats; a resident complains about the property fee."""
    await setup_rota(core, ev)
    for actor in (CHIEF, ADMIN):
        await core.services.handle_command(ev.command(private(actor), actor, "start"))
    before = len(await outbox(core))
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "物业费年年涨，服务却越来越差"))
    return await new_rows(core, before)


async def test_assigned_case_goes_to_one_person_who_can_pass_it_on(core: Core, ev: Events) -> None:
    rows = await open_property_case(core, ev)
    private_cards = [r for r in rows if r.chat_id > 0]
    assert [r.chat_id for r in private_cards] == [CHIEF.user_id]  # one person, not everyone routed
    assert "c1:claim:1" in private_cards[0].buttons and "c1:pass:1" in private_cards[0].buttons
    assert "已派给 孙书记" in private_cards[0].text

    refused = await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:claim:1"))
    assert refused.text == "这件事已派给 孙书记，可由其转派。"
    not_holder = await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:pass:1"))
    assert "只有办理人或管理员" in not_holder.text

    before = len(await outbox(core))
    choose = await core.services.handle_press(ev.press(private(CHIEF), CHIEF, "c1:pass:1"))
    assert choose.text == "请在下方选择转派对象"
    (menu,) = await new_rows(core, before)
    assert menu.chat_id == CHIEF.user_id and f"c1:passto:1:{ADMIN.user_id}" in menu.buttons

    forged = await core.services.handle_press(ev.press(private(CHIEF), CHIEF, f"c1:passto:1:{RESIDENT.user_id}"))
    assert forged.text == "这个人不能接这件事，请重新选择。"

    before = len(await outbox(core))
    passed = await core.services.handle_press(ev.press(private(CHIEF), CHIEF, f"c1:passto:1:{ADMIN.user_id}"))
    assert passed.text == "已将 #1 转派给 社区书记 周红"
    rows = await new_rows(core, before)
    handed = next(r for r in rows if r.chat_id == ADMIN.user_id and r.kind == "send")
    assert handed.text.startswith("孙书记 转派给你一件事") and "c1:claim:1" in handed.buttons
    public = [r for r in rows if r.chat_id == BUILDING_CHAT.chat_id and r.kind == "send"]
    assert [r.text for r in public] == ["#1 已转交给负责的工作人员办理。"]  # no names in public

    other = await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:claim:1"))
    assert other.text == "这件事已派给 社区书记 周红，可由其转派。"
    taken = await core.services.handle_press(ev.press(private(ADMIN), ADMIN, "c1:claim:1"))
    assert taken.text == "接单成功：#1"
    (case,) = await cases(core)
    assert case.status == "assigned" and case.assignee_id == ADMIN.user_id and case.offered_to_id is None

    # Accepted, then passed on again: back in the queue for the new person only.
    await core.services.handle_press(ev.press(private(ADMIN), ADMIN, f"c1:passto:1:{CHIEF.user_id}"))
    (case,) = await cases(core)
    assert case.status == "open" and case.assignee_id is None and case.offered_to_id == CHIEF.user_id
    assert (await core.services.handle_press(ev.press(private(CHIEF), CHIEF, "c1:claim:1"))).text == "接单成功：#1"
    history = await core.services.handle_command(ev.command(private(CHIEF), CHIEF, "case", "1"))
    assert history is None  # answered through the outbox
    detail = (await outbox(core))[-1].text
    assert "转派 孙书记 → 社区书记 周红" in detail and "转派 社区书记 周红 → 孙书记" in detail


async def test_assigned_case_nobody_accepts_moves_to_the_next_rung(core: Core, ev: Events, clock: ManualClock) -> None:
    await open_property_case(core, ev)
    assert "已派给" in (await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:claim:1"))).text
    clock.advance(minutes=31)  # the claim window passed: the next rung (admins) is told, and may take it
    before = len(await outbox(core))
    await core.services.sweep_reminders()
    told = {r.chat_id for r in await new_rows(core, before)}
    assert {CHIEF.user_id, ADMIN.user_id} <= told
    (case,) = await cases(core)
    assert case.offered_to_id is None and case.escalation_level == 1
    assert (await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:claim:1"))).text == "接单成功：#1"


# ---- roster and rota files sent to the bot in a private chat --------------------------------------


def upload(ev: Events, actor: Actor, name: str, caption: str = "") -> IncomingMessage:
    """``actor`` sends the test file ``name`` to the bot privately (its file id is the file name)."""
    data = (DATA / name).read_bytes()
    return IncomingMessage(
        next(ev._updates), private(actor), actor, next(ev._messages), caption, media="document",
        file_id=name, file_name=name, file_size=len(data),
    )


async def test_admin_sends_roster_and_rota_files_in_a_private_chat(core: Core, ev: Events) -> None:
    async def from_test_data(file_id: str) -> bytes:  # stands in for Telegram's file storage
        return (DATA / file_id).read_bytes()

    core.deps.download = from_test_data
    s = core.services
    await s.handle_command(ev.command(BUILDING_CHAT, ADMIN, "bind", "3栋"))

    await s.handle_message(upload(ev, RESIDENT, "roster_good.csv"))
    assert (await outbox(core))[-1].text == "只有社区管理员可以导入名册或排班表。"
    assert await count(core, RosterRow) == 0

    await s.handle_message(upload(ev, ADMIN, "roster_bad.csv"))
    refused = (await outbox(core))[-1].text
    assert "第 3 行：电话号码不对：12AB" in refused and "什么都没有导入" in refused and "跳过错误" in refused
    assert await count(core, RosterRow) == 0

    await s.handle_message(upload(ev, ADMIN, "roster_bad.csv", caption="跳过错误"))
    assert "新增 1" in (await outbox(core))[-1].text  # only 冯好 was good
    await s.handle_message(upload(ev, ADMIN, "roster_good.csv"))
    done = (await outbox(core))[-1].text
    assert done.startswith("已收到名册《roster_good.csv》") and "新增 5" in done
    await s.handle_message(upload(ev, ADMIN, "roster_good.csv"))
    assert "新增 0，更新 0，未变 5" in (await outbox(core))[-1].text  # the same file twice changes nothing

    await s.handle_message(upload(ev, ADMIN, "rota_good.csv"))
    assert (await outbox(core))[-1].text.startswith("已收到排班表《rota_good.csv》")
    assert await count(core, ShiftRow) > 0
    await s.handle_message(upload(ev, ADMIN, "roster_gbk.csv"))
    assert "已收到名册" in (await outbox(core))[-1].text  # GBK is read as well as UTF-8
    await s.handle_message(upload(ev, ADMIN, "rota_empty.csv"))
    assert (await outbox(core))[-1].text == "文件是空的（至少要有表头和一行数据）。"


async def test_person_marked_as_left_in_the_roster_hands_back_their_cases(core: Core, ev: Events) -> None:
    await setup_rota(core, ev)
    await core.services.handle_command(ev.command(private(HEAD), HEAD, "start"))
    await open_repair(core, ev)
    assert (await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:claim:1"))).text == "接单成功：#1"

    report = await import_file(core, "roster_leave.csv")
    assert "王强 已离任，角色已取消；退回待接单：#1" in report
    (case,) = await cases(core)
    assert case.status == "open" and case.assignee_id is None
    async with core.uow() as uow:
        head = await uow.members.get(HEAD.user_id)
    assert head is not None and not head.is_staff
    refused = await core.services.handle_press(ev.press(STAFF_CHAT, HEAD, "c1:claim:1"))
    assert "只有值班人员" in refused.text
    assert "退回待接单：无在办事项" in await import_file(core, "roster_leave.csv")  # again: nothing more to do
