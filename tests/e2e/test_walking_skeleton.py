"""The whole flow through the real aiogram client and the simulator, as residents and staff see it."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import NEIGHBOUR_ID, RESIDENT_ID, VOLUNTEER2_ID, VOLUNTEER_ID, World


async def test_request_is_registered_dispatched_claimed_resolved_and_echoed(world: World) -> None:
    w, client = world, world.client
    report = await w.say(w.building, RESIDENT_ID, "3栋2单元电梯坏了，老人下不了楼")
    card = await w.reply_of(w.building, report)
    assert card["text"].startswith("已登记 #1 · 报修 · 3栋 → 已通知：值班群")

    dispatch = await client.wait_for_bot_message(w.staff, lambda m: "#1" in m["text"] and "老人下不了楼" in m["text"])
    assert [b["text"] for b in dispatch["reply_markup"]["inline_keyboard"][0]] == ["接单", "办结", "说明情况"]

    resident = await w.press(w.staff, dispatch, RESIDENT_ID, "接单")
    assert "只有值班人员" in resident["text"]
    first = await w.press(w.staff, dispatch, VOLUNTEER_ID, "接单")
    assert first["text"] == "接单成功：#1"
    second = await w.press(w.staff, dispatch, VOLUNTEER2_ID, "接单")
    assert second["text"] == "已由 李明 接单。"
    claimed = await client.wait_for_edit(w.staff, dispatch["message_id"], lambda m: "已接单（李明）" in m["text"])
    assert [b["text"] for b in claimed["reply_markup"]["inline_keyboard"][0]] == ["办结", "说明情况"]
    # the group's card follows the case and keeps its 私信报事 link
    card_now = await client.wait_for_edit(w.building, card["message_id"], lambda m: "李明" in m["text"])
    assert card_now["reply_markup"] == card["reply_markup"]
    assert card["reply_markup"]["inline_keyboard"][0][0]["text"] == "私信报事"

    answer = await w.press(w.staff, claimed, VOLUNTEER_ID, "办结")
    assert "写一句说明" in answer["text"]
    prompt = await client.wait_for_bot_message(w.staff, lambda m: "做了什么" in m["text"])
    await w.say(w.staff, VOLUNTEER_ID, "已联系电梯公司更换控制板，电梯恢复运行", reply_to_message_id=prompt["message_id"])
    await client.wait_for_bot_message(w.staff, lambda m: m["text"].startswith("已办结 #1"))

    echo = await client.wait_for_bot_message(w.building, lambda m: m["text"].startswith("回音 #1"))
    assert echo["reply_to_message"]["message_id"] == report["message_id"]
    assert "更换控制板" in echo["text"] and "值班志愿者 李明" in echo["text"] and "用时" in echo["text"]

    other = await w.press(w.building, echo, NEIGHBOUR_ID, "满意")
    assert other["text"] == "只有反映人可以评价。"
    unhappy = await w.press(w.building, echo, RESIDENT_ID, "不满意")
    assert unhappy["text"] == "谢谢你的评价！"
    await client.wait_for_bot_message(w.staff, lambda m: "不满意" in m["text"] and "#1" in m["text"])
    edited = await client.wait_for_edit(w.building, echo["message_id"], lambda m: "不满意" in m["text"])
    assert not (edited.get("reply_markup") or {}).get("inline_keyboard")

    status = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "/case 1"))
    assert "#1 · 报修 · 3栋 · 重新办理" in status["text"] and "接单" in status["text"]


async def test_an_emergency_only_the_model_recognises_is_paged_as_urgent(world: World) -> None:
    # No urgent pattern matches this wording; the classifier's urgency head does (nlp/README.md, round 11).
    w, client = world, world.client
    report = await w.say(w.building, RESIDENT_ID, "我妈在卫生间滑了一跤 躺着起不来 我一个人抬不动 谁能来帮帮忙")
    card = await w.reply_of(w.building, report)
    assert card["text"].startswith("🚨紧急 已登记 #1 · 帮扶 · 3栋")
    dispatch = await client.wait_for_bot_message(w.staff, lambda m: "#1" in m["text"] and "滑了一跤" in m["text"])
    assert "紧急" in dispatch["text"]


async def test_a_volunteers_notice_in_the_group_opens_no_case_but_a_residents_report_does(world: World) -> None:
    # Staff name problems all day in the group (notices, follow-ups); only residents' reports become cases.
    w, client = world, world.client
    notice = await w.say(w.building, VOLUNTEER_ID, "3栋电梯坏了，维修师傅下午两点到，大家先走楼梯")
    report = await w.say(w.building, RESIDENT_ID, "3栋2单元电梯坏了，老人下不了楼")
    card = await w.reply_of(w.building, report)
    assert card["text"].startswith("已登记 #1 · 报修 · 3栋")
    answered = {(m.get("reply_to_message") or {}).get("message_id") for m in await client.bot_messages(w.building)}
    assert notice["message_id"] not in answered


async def test_chat_gets_no_reply_and_unsure_message_asks_only_the_author(world: World) -> None:
    w, client = world, world.client
    for text in ("大家早上好", "谢谢", "今天天气真好"):
        await w.say(w.building, RESIDENT_ID, text)
    unsure = await w.say(w.building, RESIDENT_ID, "楼道灯有点暗，能不能看一下")
    reply = await w.reply_of(w.building, unsure)
    bot_texts = [m["text"] for m in await client.bot_messages(w.building)]
    assert not any("早上好" in t or "天气" in t for t in bot_texts)
    if reply["text"].startswith("这是要登记的诉求吗？"):
        refused = await w.press(w.building, reply, NEIGHBOUR_ID, "登记")
        assert refused["text"] == "只有发这条消息的人可以选择。"
        accepted = await w.press(w.building, reply, RESIDENT_ID, "登记")
        assert accepted["text"].startswith("已登记 #")
        await client.wait_for_edit(w.building, reply["message_id"], lambda m: "已按你的选择登记" in m["text"])
    else:
        assert reply["text"].startswith("已登记 #")


async def test_repeated_update_and_bad_input_never_crash_or_double(world: World) -> None:
    w, client = world, world.client
    await w.say(w.building, RESIDENT_ID, "", sticker=True)
    await w.say(w.building, RESIDENT_ID, "", photo=True)
    photo = await w.say(w.building, RESIDENT_ID, "", photo=True, caption="5楼楼道的灯坏了好几天了")
    assert (await w.reply_of(w.building, photo))["text"].startswith("已登记 #1")
    long_text = "电梯坏了" + "啊" * 4092
    long_message = await w.say(w.building, RESIDENT_ID, long_text)
    assert (await w.reply_of(w.building, long_message))["text"].startswith("已登记 #2")
    await client.edit_message(w.building, long_message["message_id"], RESIDENT_ID, "电梯又坏了，谁管管")
    await w.say(w.building, RESIDENT_ID, "/nosuchcommand")
    bind = await w.say(w.building, 9001, "/bind")
    assert "用法：/bind" in (await w.reply_of(w.building, bind))["text"]
    card = (await client.bot_messages(w.building))[-1]
    forged = await client.press_button(w.building, card["message_id"], VOLUNTEER_ID, "c1:claim:999", forge=True)
    assert (await client.wait_callback_answer(forged))["text"] in ("这件事不存在或已删除。", "这个按钮已失效。")
    garbage = await client.press_button(w.building, card["message_id"], VOLUNTEER_ID, "DROP TABLE", forge=True)
    assert (await client.wait_callback_answer(garbage))["text"] == "这个按钮已失效。"
    # the bot is still alive and answers
    alive = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "/whoami"))
    assert "张大爷" in alive["text"]
    async with w.runner.core.uow() as uow:
        assert await uow.cases.count_active(1) == 2
        assert (await uow.inbox.counts())["dead"] == 0


async def test_429_from_simulator_loses_nothing_and_limits_hold(world: World) -> None:
    w, client = world, world.client
    await client.fail_next("sendMessage", 429, count=2, retry_after=1)
    report = await w.say(w.building, RESIDENT_ID, "3栋门口路灯坏了")
    card = await w.reply_of(w.building, report, within=10)
    assert card["text"].startswith("已登记 #1")
    assert w.runner.sender.stats.retry_after >= 1
    stats = await client.stats()
    assert stats["max_rate_per_chat_per_s"] <= 3 and stats["max_per_group_per_min"] <= 20


async def test_kicked_bot_marks_chat_inactive_and_keeps_cases(world: World) -> None:
    w, client = world, world.client
    await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "电梯坏了"))
    await client.kick_bot(w.building)
    for _ in range(50):
        async with w.runner.core.uow() as uow:
            chat = await uow.chats.get(w.building)
            if chat is not None and not chat.active:
                break
        await asyncio.sleep(0.1)
    assert chat is not None and not chat.active
    async with w.runner.core.uow() as uow:
        assert await uow.cases.count_active(1) == 1


async def test_group_migration_keeps_the_binding_and_cases(world: World) -> None:
    w, client = world, world.client
    old = await client.create_chat("5栋业主群", type="group")
    bind = await w.say(old["id"], 9001, "/bind 5栋")
    await w.reply_of(old["id"], bind)
    await w.reply_of(old["id"], await w.say(old["id"], RESIDENT_ID, "5栋电梯坏了"))
    new_id = await client.migrate_chat(old["id"])
    report = await w.say(new_id, RESIDENT_ID, "5栋楼道灯坏了")
    card = await w.reply_of(new_id, report, within=10)
    assert card["text"].startswith("已登记 #2 · 报修 · 5栋")
    async with w.runner.core.uow() as uow:
        moved = await uow.chats.get(new_id)
        assert moved is not None and moved.active and moved.building_id is not None
        first = await uow.cases.by_number(1, 1)
        assert first is not None and first.chat_id == new_id


async def test_second_report_of_same_problem_gets_existing_case_and_plus_one(world: World) -> None:
    w, client = world, world.client
    first = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "3栋电梯坏了，老人下不了楼"))
    assert first["text"].startswith("已登记 #1")
    again = await w.reply_of(w.building, await w.say(w.building, NEIGHBOUR_ID, "电梯又坏了！谁来修一下"), within=10)
    assert "已有同类工单 #1" in again["text"]
    pressed = await w.press(w.building, again, VOLUNTEER2_ID, "+1 我也遇到")
    assert pressed["text"] == "已记录：共 3 位居民遇到这个问题。"
    async with w.runner.core.uow() as uow:
        assert await uow.cases.count_active(1) == 1
        case = await uow.cases.by_number(1, 1)
        assert case is not None and await uow.cases.supporter_count(case.id or 0) == 2
    await client.wait_for_edit(w.staff, predicate=lambda m: "受影响居民：3 位" in m["text"], timeout=10)


async def test_a_me_too_reply_to_the_case_card_is_counted_on_that_case(world: World) -> None:
    w, client = world, world.client
    card = await w.reply_of(w.building, await w.say(w.building, RESIDENT_ID, "3栋电梯坏了，老人下不了楼"))
    assert card["text"].startswith("已登记 #1")
    me_too = await w.say(w.building, NEIGHBOUR_ID, "我们12楼也是", reply_to_message_id=card["message_id"])
    answer = await w.reply_of(w.building, me_too, within=10)
    assert "已有同类工单 #1" in answer["text"]
    async with w.runner.core.uow() as uow:
        assert await uow.cases.count_active(1) == 1
        case = await uow.cases.by_number(1, 1)
        assert case is not None and await uow.cases.supporter_count(case.id or 0) == 1
    await client.wait_for_edit(w.staff, predicate=lambda m: "受影响居民：2 位" in m["text"], timeout=10)
