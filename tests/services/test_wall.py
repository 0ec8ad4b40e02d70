"""The say-it wall and echo board, their digests on an injected clock, ratings, return visits and exports,
at the service layer on a real SQLite database."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.bootstrap import Core
from bot.core.events import ChatRef
from bot.core.states import CaseStatus
from bot.services.wall import WallService
from storage.models import CaseRow, OutboxRow
from tests.conftest import ADMIN, BUILDING_CHAT, NEIGHBOUR, RESIDENT, STAFF_CHAT, VOLUNTEER, Events
from tests.services.test_case_flow import cases, outbox, setup_community

ADMIN_CHAT = ChatRef(-3001, "supergroup", "社区管理员群")


def wall_of(core: Core) -> WallService:
    """The registered wall feature."""
    return next(f for f in core.services.features if isinstance(f, WallService))


async def prepare(core: Core, ev: Events, tmp_path: Path) -> WallService:
    """3栋 and staff bound, an admin group, extra classifier words, files written under tmp_path."""
    await setup_community(core, ev)
    await core.services.handle_command(ev.command(ADMIN_CHAT, ADMIN, "bind", "admin"))
    core.deps.classifier.table.update(  # type: ignore[attr-defined]
        {"漏水": ("repair", False, 0.9), "吵架": ("dispute", False, 0.9), "垃圾": ("other", False, 0.9)}
    )
    wall = wall_of(core)
    wall.files_dir = tmp_path / "files"
    return wall


async def resolve(core: Core, ev: Events, number: int, note: str) -> None:
    """The volunteer resolves case ``number`` with a note."""
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, f"c1:resolve:{number}"))
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, note))


def file_text(media: str | None, encoding: str) -> str:
    """The contents of a file queued as ``file:<path>``."""
    assert media is not None and media.startswith("file:")
    return Path(media.removeprefix("file:")).read_text(encoding=encoding)


async def new_rows(core: Core, before: int) -> list[OutboxRow]:
    """Outbox rows queued after the first ``before``."""
    return (await outbox(core))[before:]


async def test_wall_shows_open_cases_masked_with_reporter_as_building_resident(
    core: Core, ev: Events, tmp_path: Path
) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "张大爷说2单元301电梯坏了，电话13812345678"))
    await core.services.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "楼上王建国天天吵架，京A12345乱停"))
    await core.services.handle_press(ev.press(BUILDING_CHAT, NEIGHBOUR, "c1:plus:1"))
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "wall"))
    board = (await outbox(core))[-1].text
    assert board.startswith("📋 说事墙 · 3栋 · 待办 2 件")
    assert "#1 报修 · 张**说2单元***电梯坏了，电话138****5678 · " in board
    assert "3栋住户 · 待接单 · 已 1分钟 · +1" in board
    assert "#2 邻里纠纷 · （邻里纠纷，详情不公开）" in board
    for secret in ("13812345678", "301", "张大爷", "王建国", "京A12345", "李阿姨"):
        assert secret not in board


async def test_long_board_is_paged_with_buttons_and_the_page_press_edits_in_place(
    core: Core, ev: Events, tmp_path: Path
) -> None:
    await prepare(core, ev, tmp_path)
    core.deps.rules.wall.page_size = 3
    for text in ("电梯坏了", "路灯坏了", "楼道漏水", "垃圾没人收"):
        await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, text))
    await core.services.handle_command(ev.command(ADMIN_CHAT, ADMIN, "wall"))
    first = (await outbox(core))[-1]
    assert "第 1/2 页" in first.text and "#3" in first.text and "#4" not in first.text
    assert "· 3栋" in first.text  # the community board names the building
    assert "c1:wallpage:2:wall" in (first.buttons or "")
    answer = await core.services.handle_press(ev.press(ADMIN_CHAT, ADMIN, "c1:wallpage:2:wall", message_id=555))
    assert answer.text == ""
    edit = (await outbox(core))[-1]
    assert edit.kind == "edit" and edit.target_message_id == 555
    assert "#4" in edit.text and "#1 " not in edit.text and "c1:wallpage:1:wall" in (edit.buttons or "")


async def test_wall_outside_a_bound_group_is_refused_politely(core: Core, ev: Events, tmp_path: Path) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_command(ev.command(ChatRef(1001, "private", ""), RESIDENT, "wall"))
    assert "说事墙请在楼栋群" in (await outbox(core))[-1].text


async def test_daily_digest_follows_the_clock_and_never_repeats_an_unchanged_board(
    core: Core, ev: Events, clock, tmp_path: Path
) -> None:
    wall = await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了，我住2单元301"))
    assert await wall.post_digests() == 0  # first sight: start keeping time, post nothing
    clock.advance(hours=9, minutes=59)  # 19:59 in Shanghai
    assert await wall.post_digests() == 0
    before = len(await outbox(core))
    clock.advance(minutes=2)  # 20:01
    assert await wall.post_digests() == 1
    (digest,) = await new_rows(core, before)
    assert digest.chat_id == BUILDING_CHAT.chat_id and digest.priority == 5
    assert digest.text.startswith("🗓 今日说事") and "#1 报修" in digest.text and "301" not in digest.text
    assert "回音壁" in digest.text
    assert await wall.post_digests() == 0  # same slot: nothing more
    assert await wall_of_restarted(core, tmp_path).post_digests() == 0  # a restart posts nothing twice
    clock.advance(days=1)  # next evening, board unchanged
    assert await wall.post_digests() == 0
    await resolve(core, ev, 1, "已更换控制板")
    clock.advance(days=1)  # Sunday evening: 3栋's board changed, and the admin group gets the weekly one
    before = len(await outbox(core))
    assert await wall.post_digests() == 2
    digest, weekly = await new_rows(core, before)
    assert (digest.chat_id, weekly.chat_id) == (BUILDING_CHAT.chat_id, ADMIN_CHAT.chat_id)
    assert digest.text.startswith("🗓 本周说事")
    assert "目前没有待办的事项" in digest.text and "#1 报修 · 电梯坏了，我住2单元*** → 已更换控制板" in digest.text


def wall_of_restarted(core: Core, tmp_path: Path) -> WallService:
    """A fresh wall service over the same database, as after a restart."""
    service = WallService(core.deps, core.services.cases, core.services.intake, tmp_path / "files")
    return service


async def test_weekly_digest_goes_to_the_admin_group_on_sunday_evening(
    core: Core, ev: Events, clock, tmp_path: Path
) -> None:
    wall = await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await wall.post_digests()
    clock.advance(days=1, hours=10, minutes=1)  # Saturday 20:01: daily digest in 3栋 only
    before = len(await outbox(core))
    await wall.post_digests()
    assert [r.chat_id for r in await new_rows(core, before)] == [BUILDING_CHAT.chat_id]
    clock.advance(days=1)  # Sunday 20:01: the weekly one; 3栋's board is unchanged since yesterday
    before = len(await outbox(core))
    await wall.post_digests()
    (weekly,) = await new_rows(core, before)
    assert weekly.chat_id == ADMIN_CHAT.chat_id and weekly.text.startswith("🗓 本周说事") and "· 3栋" in weekly.text


async def test_basic_rating_closes_with_optional_comment_and_stale_presses_are_refused(
    core: Core, ev: Events, tmp_path: Path
) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await resolve(core, ev, 1, "修好了")
    echo = next(r for r in await outbox(core) if r.ref == "case:1:echo")
    assert "/echo" in echo.text
    assert all(f"c1:rate:1:{arg}" in (echo.buttons or "") for arg in ("good", "ok", "bad"))
    other = await core.services.handle_press(ev.press(BUILDING_CHAT, NEIGHBOUR, "c1:rate:1:ok"))
    assert other.text == "只有反映人可以评价。"
    rated = await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:rate:1:ok"))
    assert rated.text == "谢谢你的评价！"
    (case,) = await cases(core)
    assert case.status == CaseStatus.CLOSED.value and case.rating == "basic"
    prompt = (await outbox(core))[-1]
    assert "补充意见" in prompt.text and prompt.force_reply and prompt.chat_id == BUILDING_CHAT.chat_id
    async with core.uow() as uow:
        await uow.outbox.mark_sent(prompt.id, 777, core.deps.clock.now())
        await uow.commit()
    await core.services.handle_message(
        ev.message(BUILDING_CHAT, RESIDENT, "修得还行，就是有点慢", reply_to_message_id=777)
    )
    assert (await outbox(core))[-1].text == "已记下你对 #1 的意见，谢谢！"
    async with core.uow() as uow:
        kinds = [(e.kind, e.note) for e in await uow.cases.events(1)]
    assert ("rated_basic", None) in kinds and ("rating_comment", "修得还行，就是有点慢") in kinds
    again = await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:rate:1:bad"))
    assert again.text == "#1 已经评价过或已重新办理，这个评价按钮已失效。"


async def test_rating_an_echo_of_a_case_reopened_meanwhile_is_refused(core: Core, ev: Events, tmp_path: Path) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await resolve(core, ev, 1, "修好了")
    await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:rate:1:bad"))
    # the comment prompt waits, but an ordinary new report in the group is still taken as a report
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "路灯坏了"))
    assert len(await cases(core)) == 2
    late = await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:rate:1:good"))
    assert late.text == "#1 已经评价过或已重新办理，这个评价按钮已失效。"
    assert (await cases(core))[0].status == CaseStatus.REOPENED.value


async def test_unrated_case_gets_one_reminder_in_daytime(core: Core, ev: Events, clock, tmp_path: Path) -> None:
    wall = await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await resolve(core, ev, 1, "修好了")
    assert await wall.remind_ratings() == 0
    clock.advance(days=2, minutes=1)
    assert await wall.remind_ratings() == 1
    reminder = (await outbox(core))[-1]
    assert reminder.text.startswith("#1（报修）已办结，还没有收到评价") and "c1:rate:1:ok" in (reminder.buttons or "")
    clock.advance(days=1)
    assert await wall.remind_ratings() == 0


async def test_monthly_return_visit_asks_once_and_came_back_opens_a_linked_case(
    core: Core, ev: Events, clock, tmp_path: Path
) -> None:
    wall = await prepare(core, ev, tmp_path)
    assert await wall.visit_last_month() == 0  # starts keeping time
    report = ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了")
    await core.services.handle_message(report)
    await core.services.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "路灯坏了"))
    await resolve(core, ev, 1, "修好了")
    await resolve(core, ev, 2, "换了灯泡")
    await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:rate:1:good"))
    clock.advance(days=11, minutes=1)  # 12-01 10:01 in Shanghai
    before = len(await outbox(core))
    assert await wall.visit_last_month() == 2
    visits = [r for r in await new_rows(core, before) if "月回访" in r.text]
    assert len(visits) == 2 and visits[0].reply_to_message_id == report.message_id
    assert "c1:visit:1:again" in (visits[0].buttons or "")
    assert await wall.visit_last_month() == 0
    refused = await core.services.handle_press(ev.press(BUILDING_CHAT, NEIGHBOUR, "c1:visit:1:again"))
    assert refused.text == "只有反映人可以回答回访。"
    came_back = await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:visit:1:again", message_id=901))
    assert came_back.text == "谢谢你的回复！"
    all_cases = await cases(core)
    assert len(all_cases) == 3 and all_cases[2].status == "open" and "原 #1" in all_cases[2].text
    edit = next(r for r in await outbox(core) if r.target_message_id == 901)
    assert "又出现了，已重新登记为 #3" in edit.text
    twice = await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:visit:1:ok"))
    assert twice.text == "这条回访已经回答过了。"
    solved = await core.services.handle_press(ev.press(BUILDING_CHAT, NEIGHBOUR, "c1:visit:2:ok"))
    assert solved.text == "谢谢你的回复！" and len(await cases(core)) == 3


async def test_export_answers_bad_input_clearly(core: Core, ev: Events, tmp_path: Path) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    expected = {
        (RESIDENT, ADMIN_CHAT, "2026-11"): "只有社区管理员可以这样操作。",
        (ADMIN, BUILDING_CHAT, "2026-11"): "报表和导出请在管理员群或私聊中使用。",
        (ADMIN, ADMIN_CHAT, ""): "用法：/export 2026-10",
        (ADMIN, ADMIN_CHAT, "2026-13"): "日期看不懂",
        (ADMIN, ADMIN_CHAT, "last month"): "日期看不懂",
        (ADMIN, ADMIN_CHAT, "2026-11-30 2026-11-01"): "开始日期 2026-11-30 晚于结束日期 2026-11-01",
        (ADMIN, ADMIN_CHAT, "2026-10"): "2026-10-01 至 2026-10-31 没有登记的事项",
    }
    for (actor, chat, args), answer in expected.items():
        await core.services.handle_command(ev.command(chat, actor, "export", args))
        assert (await outbox(core))[-1].text.startswith(answer), args


async def test_export_xlsx_opens_back_with_every_case_and_its_history(core: Core, ev: Events, tmp_path: Path) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了，电话13812345678"))
    await core.services.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "路灯坏了"))
    await resolve(core, ev, 1, "修好了")
    await core.services.handle_command(ev.command(ADMIN_CHAT, ADMIN, "export", "2026-11"))
    sent = (await outbox(core))[-1]
    assert sent.media_kind == "document" and sent.text == "导出 2026-11-01 至 2026-11-30 的事项 2 件（含经过）。"
    book = load_workbook(sent.media.removeprefix("file:"))
    rows = list(book["事项"].iter_rows(values_only=True))
    assert rows[0][:6] == ("编号", "类别", "紧急", "楼栋", "状态", "内容")
    assert [r[:7] for r in rows[1:]] == [
        (1, "报修", None, "3栋", "已办结", "电梯坏了，电话13812345678", "张大爷"),
        (2, "报修", None, "3栋", "待接单", "路灯坏了", "李阿姨"),
    ]
    assert rows[1][11] == "修好了" and rows[1][8] == "2026-11-20 10:00"
    history = list(book["经过"].iter_rows(values_only=True))
    assert [(r[0], r[2]) for r in history[1:]] == [(1, "居民反映"), (1, "接单"), (1, "办结"), (2, "居民反映")]

    # Exports hold residents' words and phones: yesterday's files are gone when the next one is written.
    first = sent.media.removeprefix("file:")
    two_days_ago = os.stat(first).st_mtime - 2 * 86400
    os.utime(first, (two_days_ago, two_days_ago))
    await core.services.handle_command(ev.command(ADMIN_CHAT, ADMIN, "export", "2026-11 csv"))
    latest = (await outbox(core))[-1].media.removeprefix("file:")
    remaining = await asyncio.to_thread(lambda: (os.path.exists(first), os.path.exists(latest)))
    assert remaining == (False, True)


async def test_export_csv_and_open311(core: Core, ev: Events, tmp_path: Path) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了，电话13812345678"))
    await core.services.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "王家天天吵架"))
    await core.services.handle_command(ev.command(ADMIN_CHAT, ADMIN, "export", "2026-11-20 csv"))
    lines = file_text((await outbox(core))[-1].media, "utf-8-sig").splitlines()
    assert lines[0].startswith("编号,类别,紧急,楼栋,状态,内容") and len(lines) == 3 and "居民反映" in lines[1]
    await core.services.handle_command(ev.command(ADMIN_CHAT, ADMIN, "export", "2026-11 open311"))
    requests = json.loads(file_text((await outbox(core))[-1].media, "utf-8"))
    assert requests[0]["service_code"] == "repair" and requests[0]["status"] == "open"
    assert requests[0]["description"] == "电梯坏了，电话138****5678"
    assert requests[0]["requested_datetime"] == "2026-11-20T10:00:00+08:00" and requests[0]["address"] == "3栋"
    assert requests[1]["service_code"] == "dispute" and "王家" not in requests[1]["description"]


async def test_cli_export_writes_the_same_file(
    core: Core, ev: Events, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import cli

    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    monkeypatch.setenv("DATABASE_URL", str(core.engine.url))
    token = "7000000001:SECRET-never-in-files"
    monkeypatch.setenv("BOT_TOKEN", token)
    out = tmp_path / "out.xlsx"
    args = ["export", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx", "--out", str(out)]
    assert await asyncio.to_thread(cli.main, args) == 0
    rows = list(load_workbook(out)["事项"].iter_rows(values_only=True))
    assert rows[1][:2] == (1, "报修")
    for fmt in ("csv", "open311"):  # the token is in the environment of the export, never in its files
        written = tmp_path / f"out.{fmt}"
        assert await asyncio.to_thread(cli.main, [*args[:-4], "--format", fmt, "--out", str(written)]) == 0
        assert token not in await asyncio.to_thread(written.read_text, encoding="utf-8-sig")
    assert token.encode() not in await asyncio.to_thread(out.read_bytes)
    reversed_args = ["export", "--from", "2026-11-30", "--to", "2026-11-01"]
    assert await asyncio.to_thread(cli.main, reversed_args) == 2
    empty = ["export", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(tmp_path / "none.xlsx")]
    assert await asyncio.to_thread(cli.main, empty) == 1 and not (tmp_path / "none.xlsx").exists()


async def test_admin_report_command_and_monday_report_once(core: Core, ev: Events, clock, tmp_path: Path) -> None:
    wall = await prepare(core, ev, tmp_path)
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "reports", "week"))
    assert (await outbox(core))[-1].text == "只有社区管理员可以这样操作。"
    await core.services.handle_command(ev.command(ADMIN_CHAT, ADMIN, "reports", "year"))
    assert (await outbox(core))[-1].text.startswith("用法：/reports")
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    assert await wall.post_reports() == 0  # starts keeping time
    clock.advance(days=2, hours=23)  # Monday 11-23 09:00 in Shanghai
    before = len(await outbox(core))
    assert await wall.post_reports() == 1
    text, chart = await new_rows(core, before)
    assert text.chat_id == chart.chat_id == ADMIN_CHAT.chat_id
    assert text.text.startswith("📊 周调度 · 2026-11-16 至 2026-11-22") and "登记 1 件" in text.text
    assert chart.media_kind == "photo" and len(file_text(chart.media, "latin-1")) > 5000
    assert await wall.post_reports() == 0
    await core.services.handle_command(ev.command(ADMIN_CHAT, ADMIN, "reports", "month"))
    assert (await outbox(core))[-2].text.startswith("📊 月度总结 · 2026-10-01 至 2026-10-31")


async def test_visit_and_page_buttons_reject_forged_arguments(core: Core, ev: Events, tmp_path: Path) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    for data in ("c1:visit:1:maybe", "c1:wallpage:1:x", "c1:visit:99:ok"):
        answer = await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, data))
        assert answer.text in ("这个按钮已失效。", "这件事不存在或已删除。", "这条回访已经回答过了。"), data
    async with core.uow() as uow:
        assert uow.session is not None
        assert len(list(await uow.session.scalars(select(CaseRow)))) == 1


async def test_reporter_who_chose_to_be_named_is_named_except_on_disputes(core: Core, ev: Events, tmp_path: Path) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "named", "maybe"))
    assert (await outbox(core))[-1].text.startswith("用法：/named on")
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "named", "on"))
    assert "显示你的名字" in (await outbox(core))[-1].text
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "楼上天天吵架"))
    await core.services.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "路灯坏了"))
    await core.services.handle_command(ev.command(BUILDING_CHAT, NEIGHBOUR, "wall"))
    lines = (await outbox(core))[-1].text.splitlines()
    assert "张大爷（3栋）" in lines[1] and "张大爷" not in lines[2] and "3栋住户" in lines[2]
    assert "李阿姨" not in lines[3] and "3栋住户" in lines[3]
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "named", "匿名"))
    await core.services.handle_command(ev.command(BUILDING_CHAT, NEIGHBOUR, "wall"))
    assert "张大爷" not in (await outbox(core))[-1].text


async def test_cli_report_prints_the_figures_and_writes_the_chart(
    core: Core, ev: Events, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import cli

    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    monkeypatch.setenv("DATABASE_URL", str(core.engine.url))
    chart = tmp_path / "week.png"
    args = ["report", "week", "--at", "2026-11-23", "--chart", str(chart)]
    assert await asyncio.to_thread(cli.main, args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("📊 周调度 · 2026-11-16 至 2026-11-22\n登记 1 件 · 办结 0 件 · 超时 ")
    assert "  3栋：登记 1 · 办结 0 · 超时 " in printed  # overdue depends on the real clock here
    assert len(file_text(f"file:{chart}", "latin-1")) > 5000


async def test_echo_of_a_dispute_shows_no_details_of_the_parties(core: Core, ev: Events, tmp_path: Path) -> None:
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "楼上王家天天吵架"))
    await resolve(core, ev, 1, "已调解王建国和张大爷的纠纷，双方同意晚上十点后不装修")
    echo = next(r for r in await outbox(core) if r.ref == "case:1:echo")
    assert "已办结：已调解处理" in echo.text and "王建国" not in echo.text
    await core.services.handle_command(ev.command(BUILDING_CHAT, NEIGHBOUR, "echo"))
    board = (await outbox(core))[-1].text
    assert "#1 邻里纠纷 · （邻里纠纷，详情不公开） → 已调解处理" in board
    assert "王" not in board and "张大爷" not in board


async def test_staff_notes_in_public_mask_the_residents_named_in_them(core: Core, ev: Events, tmp_path: Path) -> None:
    # The reporter (张大爷) and a neighbour who pressed +1 (李阿姨) are named in the staff's notes; every
    # public post of a note (explanation, echo, /case in the group, the echo board) masks them.
    await prepare(core, ev, tmp_path)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋门口漏水了"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:explain:1"))
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "已和张大爷约好，等配件到了再修"))
    explained = next(r for r in await outbox(core) if r.ref == "case:1:echo")
    assert "已和张**约好" in explained.text and "张大爷" not in explained.text

    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "楼下垃圾堆了三天"))
    await core.services.handle_press(ev.press(BUILDING_CHAT, NEIGHBOUR, "c1:plus:2"))
    await resolve(core, ev, 2, "张大爷说的垃圾清走了，李阿姨家门口也扫过了")
    echo = next(r for r in await outbox(core) if r.ref == "case:2:echo")
    assert "张**说的垃圾清走了，李**家门口也扫过了" in echo.text
    await core.services.handle_command(ev.command(BUILDING_CHAT, NEIGHBOUR, "case", "2"))
    await core.services.handle_command(ev.command(BUILDING_CHAT, NEIGHBOUR, "echo"))
    detail, board = (r.text for r in (await outbox(core))[-2:])
    for public in (detail, board):
        assert "张**说的垃圾清走了" in public
        assert "张大爷" not in public and "李阿姨" not in public
    # staff in the staff group still read the note as written
    await core.services.handle_command(ev.command(STAFF_CHAT, VOLUNTEER, "case", "2"))
    assert "张大爷说的垃圾清走了，李阿姨家门口也扫过了" in (await outbox(core))[-1].text
