"""Rating with 基本满意 and a comment, the say-it wall, a return visit that reopens the problem as a new case,
and the admin's export file and report chart, through the real aiogram / python-telegram-bot clients and the
simulator."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.services.wall import WallService
from tests.e2e.conftest import ADMIN_ID, NEIGHBOUR_ID, RESIDENT_ID, VOLUNTEER_ID, World


async def test_basic_rating_comment_wall_and_return_visit_reopening(world: World) -> None:
    w, client = world, world.client
    report = await w.say(w.building, RESIDENT_ID, "3栋2单元301电梯坏了，电话13812345678")
    await w.reply_of(w.building, report)
    wall = await w.reply_of(w.building, await w.say(w.building, NEIGHBOUR_ID, "/wall"))
    assert wall["text"].startswith("📋 说事墙 · 3栋 · 待办 1 件")
    assert "3栋住户" in wall["text"] and "13812345678" not in wall["text"] and "301" not in wall["text"]

    dispatch = await client.wait_for_bot_message(w.staff, lambda m: "#1" in m["text"] and "电梯" in m["text"])
    await w.press(w.staff, dispatch, VOLUNTEER_ID, "办结")
    prompt = await client.wait_for_bot_message(w.staff, lambda m: "做了什么" in m["text"])
    await w.say(w.staff, VOLUNTEER_ID, "已更换控制板", reply_to_message_id=prompt["message_id"])
    echo = await client.wait_for_bot_message(w.building, lambda m: m["text"].startswith("回音 #1"))
    assert "/echo" in echo["text"]
    assert [b["text"] for b in echo["reply_markup"]["inline_keyboard"][0]] == ["满意", "基本满意", "不满意"]

    assert (await w.press(w.building, echo, NEIGHBOUR_ID, "基本满意"))["text"] == "只有反映人可以评价。"
    assert (await w.press(w.building, echo, RESIDENT_ID, "基本满意"))["text"] == "谢谢你的评价！"
    await client.wait_for_edit(w.building, echo["message_id"], lambda m: "基本满意" in m["text"])
    ask = await client.wait_for_bot_message(w.building, lambda m: "补充意见" in m["text"])
    comment = await w.say(w.building, RESIDENT_ID, "修得还行，就是慢了点", reply_to_message_id=ask["message_id"])
    assert (await w.reply_of(w.building, comment))["text"] == "已记下你对 #1 的意见，谢谢！"
    # a client still showing the old keyboard presses 不满意 after the rating took it away
    query = await client.press_button(w.building, echo["message_id"], RESIDENT_ID, "c1:rate:1:bad", forge=True)
    stale = await client.wait_callback_answer(query, timeout=5.0)
    assert stale["text"] == "#1 已经评价过或已重新办理，这个评价按钮已失效。"

    # 月回访: the monthly sweep's question (its schedule is tested with a moved clock in tests/services)
    core = w.runner.core
    service = next(f for f in core.services.features if isinstance(f, WallService))
    async with core.uow() as uow:
        case = await uow.cases.by_number(1, 1)
        assert case is not None and case.status.value == "closed" and case.rating == "basic"
        await service._ask_visit(uow, case, core.deps.clock.now())
        await uow.commit()
    core.uow.on_outbox()  # type: ignore[misc]
    visit = await client.wait_for_bot_message(w.building, lambda m: m["text"].startswith("月回访 #1"))
    assert visit["reply_to_message"]["message_id"] == report["message_id"]
    assert (await w.press(w.building, visit, NEIGHBOUR_ID, "又出现了"))["text"] == "只有反映人可以回答回访。"
    assert (await w.press(w.building, visit, RESIDENT_ID, "又出现了"))["text"] == "谢谢你的回复！"
    card = await client.wait_for_bot_message(w.building, lambda m: m["text"].startswith("已登记 #2 · 报修 · 3栋"))
    assert card["reply_to_message"]["message_id"] == report["message_id"]
    await client.wait_for_edit(w.building, visit["message_id"], lambda m: "已重新登记为 #2" in m["text"])
    await client.wait_for_bot_message(w.staff, lambda m: "#2" in m["text"] and "原 #1" in m["text"])


async def test_admin_gets_the_export_file_and_the_report_chart_privately(world: World) -> None:
    w, client = world, world.client
    await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "3栋电梯坏了"))
    month = w.runner.core.deps.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    refused = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, f"/export {month}"))
    assert refused["text"] == "只有社区管理员可以这样操作。"
    await w.say(ADMIN_ID, ADMIN_ID, f"/export {month}")
    document = await client.wait_for_bot_message(ADMIN_ID, lambda m: "document" in m)
    assert document["document"]["file_name"].endswith(".xlsx") and document["caption"].endswith("的事项 1 件（含经过）。")
    await w.say(ADMIN_ID, ADMIN_ID, "/reports week")
    await client.wait_for_bot_message(ADMIN_ID, lambda m: (m.get("text") or "").startswith("📊 周调度"))
    chart = await client.wait_for_bot_message(ADMIN_ID, lambda m: "photo" in m)
    assert chart["caption"].startswith("图表：按类别统计")
