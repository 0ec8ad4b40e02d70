"""Private reports end to end: residents write to the bot directly, through the simulator, with both frameworks."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import NEIGHBOUR_ID, RESIDENT_ID, VOLUNTEER_ID, World, button_data


def url_of(message: dict[str, Any], text: str) -> str:
    """The URL of the button labelled ``text``."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"] == text:
                return str(button["url"])
    raise AssertionError(f"no button {text!r} on message: {message.get('text')!r}")


async def bot_said(w: World, chat_id: int, start: str, after: int = 0) -> dict[str, Any]:
    """The bot's next message in a chat whose text (or caption) starts with ``start``."""
    return await w.client.wait_for_bot_message(
        chat_id, lambda m: (m.get("text") or m.get("caption") or "").startswith(start), timeout=10,
        after_message_id=after or None,
    )


async def test_deep_link_building_asked_once_and_photo_report(world: World) -> None:
    w, client = world, world.client
    # /help in the building group carries the 私信报事 button, set to the building
    help_reply = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "/help"))
    link = url_of(help_reply, "私信报事")
    assert link.startswith("https://t.me/linli_shuoshi_bot?start=b")
    start = await w.say(RESIDENT_ID, RESIDENT_ID, "/start " + link.rsplit("=", 1)[1])
    assert "已设为「3栋」" in (await w.reply_of(RESIDENT_ID, start))["text"]

    # a resident of unknown building writes privately: asked once, remembered
    first = await w.say(NEIGHBOUR_ID, NEIGHBOUR_ID, "3栋电梯坏了，老人下不了楼")
    ask = await bot_said(w, NEIGHBOUR_ID, "请问你住在哪一栋", first["message_id"])
    again = await w.say(NEIGHBOUR_ID, NEIGHBOUR_ID, "已经坏了两天了")
    assert (await w.reply_of(NEIGHBOUR_ID, again))["text"].startswith("请先点上面的按钮")
    assert (await w.press(NEIGHBOUR_ID, ask, NEIGHBOUR_ID, "3栋"))["text"] == "楼栋：3栋"
    card = await bot_said(w, NEIGHBOUR_ID, "已登记 #1 · 报修 · 3栋", first["message_id"])
    assert card["reply_to_message"]["message_id"] == first["message_id"]
    await client.wait_for_bot_message(w.staff, lambda m: "#1" in m.get("text", "") and "两天" in m.get("text", ""))

    photo = await w.say(NEIGHBOUR_ID, NEIGHBOUR_ID, "", photo=True, caption="5楼楼道的灯坏了好几天了")
    assert (await w.reply_of(NEIGHBOUR_ID, photo))["text"].startswith("已登记 #2 · 报修 · 3栋")
    shown = await client.wait_for_bot_message(w.staff, lambda m: m.get("caption") == "#2 现场照片", timeout=10)
    assert shown["photo"][-1]["file_size"] == photo["photo"][-1]["file_size"]
    assert not any("photo" in m for m in await client.bot_messages(w.building))
    asks = [m for m in await client.bot_messages(NEIGHBOUR_ID) if m["text"].startswith("请问你住在哪一栋")]
    assert len(asks) == 1


async def test_anonymous_dispute_is_relayed_without_revealing_anyone(world: World) -> None:
    w, client = world, world.client
    start = await w.say(RESIDENT_ID, RESIDENT_ID, "/start")
    await w.reply_of(RESIDENT_ID, start)
    async with w.runner.core.uow() as uow:
        building = next(b for b in await uow.buildings.list(1) if b.name == "3栋")
        await uow.reports.set_building(RESIDENT_ID, building.id, w.runner.core.deps.clock.now())
        await uow.commit()
    report = await w.say(RESIDENT_ID, RESIDENT_ID, "楼上装修噪音太大，天天吵到半夜，沟通过没用")
    reply = await w.reply_of(RESIDENT_ID, report, within=10)
    if not reply["text"].startswith("已登记"):  # the classifier was unsure: the resident picks the category
        await w.press(RESIDENT_ID, reply, RESIDENT_ID, "邻里纠纷")
    await bot_said(w, RESIDENT_ID, "已按匿名处理", report["message_id"])

    extra = await client.wait_for_bot_message(w.staff, lambda m: "反映人要求匿名" in m.get("text", ""), timeout=10)
    assert (await w.press(w.staff, extra, VOLUNTEER_ID, "通过机器人联系反映人"))["text"] == "请发送要转达的内容"
    prompt = await bot_said(w, w.staff, "李明，请写下要转达给 #1 反映人的话", extra["message_id"])
    await w.say(w.staff, VOLUNTEER_ID, "您好，噪音一般几点开始？", reply_to_message_id=prompt["message_id"])
    relayed = await bot_said(w, RESIDENT_ID, "工作人员关于 #1 的留言")
    assert "噪音一般几点开始" in relayed["text"] and "李明" not in relayed["text"]
    await w.press(RESIDENT_ID, relayed, RESIDENT_ID, "回复")
    ask = await bot_said(w, RESIDENT_ID, "请写下给工作人员的回复", relayed["message_id"])
    await w.say(RESIDENT_ID, RESIDENT_ID, "晚上十点以后", reply_to_message_id=ask["message_id"])
    back = await bot_said(w, w.staff, "#1 反映人回复")
    assert "晚上十点以后" in back["text"] and "张大爷" not in back["text"]
    assert button_data(back, "通过机器人联系反映人") == f"c1:relay:{extra_case_id(extra)}"

    staff_texts = [m.get("text") or m.get("caption") or "" for m in await client.bot_messages(w.staff)]
    assert not any("张大爷" in t for t in staff_texts)
    assert not any("张大爷" in (m.get("text") or "") or "#1" in (m.get("text") or "")
                   for m in await client.bot_messages(w.building))


def extra_case_id(message: dict[str, Any]) -> str:
    """The case id in the relay button of a staff message."""
    return button_data(message, "通过机器人联系反映人").rsplit(":", 1)[1]


async def test_guided_report_with_cancel_and_location_and_staff_phone_case(world: World) -> None:
    w, client = world, world.client
    await w.reply_of(RESIDENT_ID, await w.say(RESIDENT_ID, RESIDENT_ID, "/start"))
    first = await w.say(RESIDENT_ID, RESIDENT_ID, "/report")
    ask = await bot_said(w, RESIDENT_ID, "请问你住在哪一栋", first["message_id"])
    await w.press(RESIDENT_ID, ask, RESIDENT_ID, "3栋")
    step1 = await bot_said(w, RESIDENT_ID, "第 1 步", ask["message_id"])
    cancel = await w.say(RESIDENT_ID, RESIDENT_ID, "/cancel")
    assert (await w.reply_of(RESIDENT_ID, cancel))["text"] == "已取消。"
    assert (await w.press(RESIDENT_ID, step1, RESIDENT_ID, "报修"))["text"].startswith("这次填写已经结束")

    report = await w.say(RESIDENT_ID, RESIDENT_ID, "/report")
    step1 = await bot_said(w, RESIDENT_ID, "第 1 步", report["message_id"])
    await w.press(RESIDENT_ID, step1, RESIDENT_ID, "报修")
    step2 = await bot_said(w, RESIDENT_ID, "第 2 步", step1["message_id"])
    await w.say(RESIDENT_ID, RESIDENT_ID, "", photo=True, caption="地下车库入口的灯坏了")
    step4 = await bot_said(w, RESIDENT_ID, "第 4 步", step2["message_id"])  # a photo with a caption answers 2 and 3
    await client.send_message(RESIDENT_ID, RESIDENT_ID, location=(31.2304, 121.4737))
    step5 = await bot_said(w, RESIDENT_ID, "第 5 步", step4["message_id"])
    await w.press(RESIDENT_ID, step5, RESIDENT_ID, "实名")
    confirm = await bot_said(w, RESIDENT_ID, "请确认", step5["message_id"])
    assert "照片：1 张；位置：有" in confirm["text"]
    assert (await w.press(RESIDENT_ID, confirm, RESIDENT_ID, "提交"))["text"] == "已提交"
    await bot_said(w, RESIDENT_ID, "已登记 #1 · 报修 · 3栋")
    await client.wait_for_bot_message(w.staff, lambda m: "openstreetmap.org" in m.get("text", ""), timeout=10)
    await client.wait_for_bot_message(w.staff, lambda m: m.get("caption") == "#1 现场照片", timeout=10)

    # staff open a case for a phone call from the duty group
    opened = await w.say(w.staff, VOLUNTEER_ID, "/open 3栋 电话 5楼楼道灯坏了，住户王先生来电")
    card = await w.reply_of(w.staff, opened, within=10)
    assert card["text"].startswith("已登记 #2") and "3栋" in card["text"]
    await client.wait_for_bot_message(w.staff, lambda m: "#2 电话登记" in m.get("text", ""), timeout=10)
    async with w.runner.core.uow() as uow:
        case = await uow.cases.by_number(1, 2)
        assert case is not None and case.source == "phone" and "代登记" in case.reporter_name
