"""Broadcasts at the service layer: drafting, refusals, confirmation, progress and the final report."""

from __future__ import annotations

from bot.bootstrap import Core
from bot.core.events import ChatRef
from bot.core.model import PRIORITY_BROADCAST, PRIORITY_LIVE, OutboxKind
from tests.conftest import ADMIN, RESIDENT, STAFF_CHAT, Events
from tests.services.test_case_flow import outbox as rows

ADMIN_PM = ChatRef(ADMIN.user_id, "private", "")
GROUPS = {
    "1栋": ChatRef(-1001, "supergroup", "1栋业主群"),
    "2栋": ChatRef(-1002, "supergroup", "2栋业主群"),
    "3栋": ChatRef(-1003, "supergroup", "3栋业主群"),
}


async def community(core: Core, ev: Events) -> None:
    """Three building groups (1栋 and 2栋 in 一网格) and the staff group, bound by the admin."""
    for name, chat in GROUPS.items():
        await core.services.handle_command(ev.command(chat, ADMIN, "bind", name))
    await core.services.handle_command(ev.command(STAFF_CHAT, ADMIN, "bind", "staff"))
    async with core.uow() as uow:
        for name in ("1栋", "2栋"):
            building = await uow.buildings.get_or_create(1, name)
            await uow.buildings.place_in_grid(building.id, "一网格")
        await uow.commit()


async def last_text(core: Core) -> str:
    return (await rows(core))[-1].text


async def test_refusals_are_clear_and_nothing_is_drafted(core: Core, ev: Events) -> None:
    await community(core, ev)
    s = core.services
    await s.handle_command(ev.command(ADMIN_PM, RESIDENT, "broadcast", "全体\n停水通知"))
    assert "只有社区管理员" in await last_text(core)
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "broadcast", ""))
    assert "用法：/broadcast" in await last_text(core)
    await s.handle_command(ev.command(GROUPS["1栋"], ADMIN, "broadcast", "全体\n停水通知"))
    assert "不要在居民群里预览" in await last_text(core)
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "broadcast", "9栋\n停水通知"))
    assert "不认识“9栋”" in await last_text(core)
    async with core.uow() as uow:  # a grid without any bound group
        building = await uow.buildings.get_or_create(1, "8栋")
        await uow.buildings.place_in_grid(building.id, "二网格")
        await uow.commit()
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "broadcast", "二网格\n停水通知"))
    assert "没有已绑定的群" in await last_text(core)
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "broadcast", "全体\n" + "水" * 5000))
    assert "消息共 5000 字，超过 4096 字" in await last_text(core)
    # A photo over sendPhoto's 10 MB: refused with its size, in the content step of the dialogue.
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "broadcast", "1栋"))
    assert "请发送要群发的内容" in await last_text(core)
    await s.handle_message(
        ev.message(ADMIN_PM, ADMIN, "", media="photo", file_id="AgAC-big", file_size=12 * 1024 * 1024)
    )
    assert "图片 12.0 MB，超过 10 MB" in await last_text(core)
    async with core.uow() as uow:
        assert await uow.broadcasts.get(1) is None
    assert not [r for r in await rows(core) if r.priority == PRIORITY_BROADCAST]
    # /cancel ends the dialogue: the next message is not taken as a broadcast.
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "cancel"))
    await s.handle_message(ev.message(ADMIN_PM, ADMIN, "随便说说"))
    async with core.uow() as uow:
        assert await uow.broadcasts.get(1) is None


async def test_preview_confirm_progress_and_report(core: Core, ev: Events) -> None:
    await community(core, ev)
    s = core.services
    before = len(await rows(core))
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "broadcast", "一网格 工作人员\n明早8点到12点停水，请提前储水。"))
    preview, summary = (await rows(core))[before:]
    assert preview.chat_id == ADMIN.user_id and preview.text == "明早8点到12点停水，请提前储水。"
    assert "3 个群" in summary.text and "1栋业主群、2栋业主群、值班群" in summary.text
    assert "c1:bcsend:1" in (summary.buttons or "") and "c1:bcdrop:1" in (summary.buttons or "")

    answer = await s.handle_press(ev.press(ADMIN_PM, RESIDENT, "c1:bcsend:1"))
    assert "只有社区管理员" in answer.text
    answer = await s.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:bcsend:1"))
    assert answer.text == "开始发送到 3 个群"
    again = await s.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:bcsend:1"))
    assert "已经确认或取消" in again.text
    copies = [r for r in await rows(core) if r.ref == "bc:1"]
    assert sorted(r.chat_id for r in copies) == sorted([-1001, -1002, STAFF_CHAT.chat_id])
    assert {r.priority for r in copies} == {PRIORITY_BROADCAST}
    progress = next(r for r in await rows(core) if r.ref == "bcp:1")
    assert progress.text == "已发送 0/3 · 失败 0" and progress.priority == PRIORITY_LIVE

    broadcasts = next(f for f in s.features if type(f).__name__ == "BroadcastService")
    async with core.uow() as uow:  # the sender delivers two and the third group has removed the bot
        await uow.outbox.mark_sent(copies[0].id, 501, core.deps.clock.now())
        await uow.outbox.mark_sent(copies[1].id, 502, core.deps.clock.now())
        await uow.commit()
    assert await broadcasts.sweep(False) == 1
    edit = (await rows(core))[-1]
    assert edit.kind == OutboxKind.EDIT.value and edit.edit_of == progress.id and edit.text == "已发送 2/3 · 失败 0"
    assert await broadcasts.sweep(False) == 0  # nothing changed: no edit
    async with core.uow() as uow:
        await uow.outbox.mark_failed(copies[2].id, "Forbidden: bot was kicked from the supergroup chat", core.deps.clock.now())
        await uow.commit()
    await broadcasts.sweep(False)
    *_, done, report = await rows(core)
    assert done.text == "发送完毕 2/3 · 失败 1"
    assert "3 个群中成功 2 个，失败 1 个" in report.text and "1栋业主群：机器人已被移出群" in report.text
    assert await broadcasts.sweep(False) == 0


async def test_photo_through_the_dialogue_and_cancel_button(core: Core, ev: Events) -> None:
    await community(core, ev)
    s = core.services
    await s.handle_command(ev.command(ADMIN_PM, ADMIN, "broadcast", "3栋"))
    await s.handle_message(ev.message(ADMIN_PM, ADMIN, "消防演练", media="photo", file_id="AgAC-ok", file_size=300_000))
    preview, summary = (await rows(core))[-2:]
    assert preview.media_kind == "photo" and preview.media == "AgAC-ok" and preview.text == "消防演练"
    assert "1 个群" in summary.text
    answer = await s.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:bcdrop:1"))
    assert "已取消" in answer.text
    late = await s.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:bcsend:1"))
    assert "已经确认或取消" in late.text
    assert not [r for r in await rows(core) if r.ref == "bc:1"]


async def test_copies_in_flight_when_the_sender_stopped_are_reported_not_resent(core: Core, ev: Events) -> None:
    from bot.outbox import OutboxSender

    await community(core, ev)
    await core.services.handle_command(ev.command(ADMIN_PM, ADMIN, "broadcast", "全体\n今晚停电检修"))
    await core.services.handle_press(ev.press(ADMIN_PM, ADMIN, "c1:bcsend:1"))
    first, *_ = [r for r in await rows(core) if r.ref == "bc:1"]
    others = [r for r in await rows(core) if r.id != first.id and r.status == "pending"]
    async with core.uow() as uow:  # a sender was killed while the first copy's request was leaving
        await uow.broadcasts.mark_in_flight([first.id])
        for row in others:  # everything else was delivered
            await uow.outbox.mark_sent(row.id, 900 + row.id, core.deps.clock.now())
        await uow.commit()
    restarted = OutboxSender(core.uow, messenger=None, clock=core.deps.clock)  # type: ignore[arg-type]
    await restarted.drain_once()  # the recovery pass: nothing else is due, so nothing is sent
    assert restarted.stats.uncertain_dropped == 1
    by_id = {r.id: r for r in await rows(core)}
    assert by_id[first.id].status == "failed" and by_id[first.id].error.startswith("uncertain")
    broadcasts = next(f for f in core.services.features if type(f).__name__ == "BroadcastService")
    await broadcasts.sweep(False)
    report = (await rows(core))[-1].text
    assert "成功 2 个，失败 1 个" in report and "可能已送达也可能没有" in report


def test_a_429_pauses_every_chat_and_limits_scale_for_tests() -> None:
    from bot.outbox import Limits, Pacer

    now = [100.0]
    pacer = Pacer(Limits(), lambda: now[0])
    pacer.pause_all(3.2)
    assert pacer.ready_at(-1) == pacer.ready_at(42) == 103.2 == pacer.paused_until
    now[0] = 104.0
    assert pacer.ready_at(-1) == 104.0
    fast = Limits().scaled(4)
    assert (fast.per_second, fast.per_chat_interval, fast.per_group_per_minute) == (100, 0.25, 18)
    reserved = Pacer(Limits(per_second=3, live_reserve=1), lambda: now[0])
    for chat in (1, 2):
        reserved.record(chat)
    assert reserved.ready_at(3, bulk=True) == 105.0  # bulk traffic leaves the last slot of the second
    assert reserved.ready_at(3) == 104.0  # to a live reply


class TimingOutTelegram:
    """A Bot API whose every send times out after the request left (the answer never comes back)."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def send(self, message: object) -> int:
        from bot.core.ports import Uncertain

        self.calls.append(message.chat_id)  # type: ignore[attr-defined]
        raise Uncertain("read timeout")

    async def edit(self, message: object, message_id: int) -> None:
        raise AssertionError("no edit expected")

    async def download(self, file_id: str) -> bytes:
        raise AssertionError("no download expected")


async def test_a_timed_out_copy_is_not_resent_but_a_timed_out_reply_is(core: Core, ev: Events) -> None:
    import asyncio

    from bot.core.model import OutgoingMessage
    from bot.outbox import OutboxSender

    now = core.deps.clock.now()
    async with core.uow() as uow:
        copy = await uow.outbox.add(OutgoingMessage(-1001, "停水通知", ref="bc:9", priority=PRIORITY_BROADCAST, created_at=now))
        reply = await uow.outbox.add(OutgoingMessage(-1002, "已登记 #1", priority=PRIORITY_LIVE, created_at=now))
        await uow.commit()
    telegram = TimingOutTelegram()
    sender = OutboxSender(core.uow, telegram, core.deps.clock)  # type: ignore[arg-type]
    await sender.drain_once()
    await asyncio.gather(*sender._in_flight.values())
    by_id = {r.id: r for r in await rows(core)}
    assert by_id[copy].status == "failed" and by_id[copy].error.startswith("uncertain")  # at most once
    assert by_id[reply].status == "pending" and by_id[reply].attempts == 1  # at least once: tried again later
    assert sender.stats.uncertain_dropped == 1 and sender.stats.uncertain_retries == 1
    assert sorted(telegram.calls) == [-1002, -1001]


class DownTelegram:
    """A Bot API that cannot be reached (network down) until ``up`` is set; then every send succeeds."""

    def __init__(self) -> None:
        self.up = False
        self.tries = 0

    async def send(self, message: object) -> int:
        from bot.core.ports import Unreachable

        self.tries += 1
        if not self.up:
            raise Unreachable("connection refused")
        return 777

    async def edit(self, message: object, message_id: int) -> None:
        raise AssertionError("no edit expected")

    async def download(self, file_id: str) -> bytes:
        raise AssertionError("no download expected")


async def test_an_outage_of_hours_loses_no_reply_and_a_day_old_one_is_given_up(core: Core, ev: Events) -> None:
    import asyncio
    import time
    from datetime import timedelta

    from bot.core.model import OutgoingMessage
    from bot.outbox import MAX_ATTEMPTS, OutboxSender, Pacer

    clock = core.deps.clock
    now = clock.now()
    async with core.uow() as uow:
        card = await uow.outbox.add(OutgoingMessage(-1002, "已登记 #1", priority=PRIORITY_LIVE, created_at=now))
        stale = await uow.outbox.add(
            OutgoingMessage(-1003, "已登记 #2", priority=PRIORITY_LIVE, created_at=now - timedelta(hours=25))
        )
        await uow.commit()
    telegram = DownTelegram()
    sender = OutboxSender(core.uow, telegram, clock)  # type: ignore[arg-type]
    # Telegram's limits on the test's clock (plus real time, which the spacing of starts waits on)
    sender.pacer = Pacer(sender.limits, lambda: clock.now().timestamp() + time.monotonic())

    async def minute() -> None:
        await sender.drain_once()
        await asyncio.gather(*sender._in_flight.values())
        clock.advance(seconds=61)  # past the longest back-off

    for _ in range(3 * 60):  # three hours without Telegram
        await minute()
    by_id = {r.id: r for r in await rows(core)}
    assert by_id[card].status == "pending" and by_id[card].attempts > MAX_ATTEMPTS  # waits, however many tries
    assert telegram.tries < 3 * 60 + 20  # about one try a minute, not a storm
    assert by_id[stale].status == "failed" and "gave up" in by_id[stale].error  # a day late is too late
    telegram.up = True
    await minute()
    by_id = {r.id: r for r in await rows(core)}
    assert by_id[card].status == "sent" and by_id[card].message_id == 777
