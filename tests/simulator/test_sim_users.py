"""The test side: residents write, edit and press buttons; tests wait for the bot and follow events."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from simulator import SimulatorApp, SimulatorClient, SimulatorError, running_simulator

BOT_ID, ALICE, BOB = 7000000001, 101, 102


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d) for d in data]]
    )


async def test_user_messages_are_built_as_telegram_builds_them(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    first = await client.send_message(
        group["id"], ALICE, "请 @linli_shuoshi_bot 看看 /report@linli_shuoshi_bot 😀 #停车"
    )
    assert first["from"] == {
        "id": ALICE,
        "is_bot": False,
        "first_name": "爱丽丝",
        "username": "alice",
        "language_code": "zh-hans",
    }
    assert [(e["type"], e["offset"], e["length"]) for e in first["entities"]] == [
        ("mention", 2, 18),
        ("bot_command", 24, 25),
        ("hashtag", 53, 3),  # the emoji counts two UTF-16 units
    ]
    reply = await client.send_message(group["id"], BOB, "我也是", reply_to_message_id=first["message_id"])
    assert reply["reply_to_message"] == first
    sticker = await client.send_message(group["id"], BOB, sticker=True)
    assert "text" not in sticker and sticker["sticker"]["type"] == "regular" and sticker["sticker"]["emoji"]
    photo = await client.send_message(group["id"], ALICE, photo=True, caption="/report 漏水照片")
    assert photo["caption_entities"][0]["type"] == "bot_command" and len(photo["photo"]) >= 2
    doc = await client.send_message(group["id"], ALICE, document={"file_name": "名单.xlsx", "data": "x"})
    assert doc["document"]["file_name"] == "名单.xlsx"
    updates = await aiobot.get_updates(timeout=0)
    assert [u.message.message_id for u in updates if u.message] == [
        m["message_id"] for m in (first, reply, sticker, photo, doc)
    ]
    parsed = updates[1].message
    assert parsed is not None and parsed.reply_to_message is not None
    assert parsed.reply_to_message.text == first["text"]
    assert updates[2].message is not None and updates[2].message.sticker is not None


async def test_edits_by_users_become_edited_message_updates(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    sent = await client.send_message(group["id"], ALICE, "水管漏了")
    edited = await client.edit_message(group["id"], sent["message_id"], ALICE, "水管漏了，3单元")
    assert edited["edit_date"] >= edited["date"]
    updates = await aiobot.get_updates(timeout=0)
    assert updates[-1].edited_message is not None and updates[-1].edited_message.text == "水管漏了，3单元"
    with pytest.raises(SimulatorError, match="own messages"):
        await client.edit_message(group["id"], sent["message_id"], BOB, "不是我的")
    assert (await client.messages(group["id"]))[0]["text"] == "水管漏了，3单元"


async def test_buttons_refuse_forged_data_unless_asked(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    card = await aiobot.send_message(group["id"], "案件 #9", reply_markup=keyboard("c1:claim:9"))
    with pytest.raises(SimulatorError, match="not on the keyboard"):
        await client.press_button(group["id"], card.message_id, BOB, "c1:close:9")
    forged = await client.press_button(group["id"], card.message_id, BOB, "c1:close:9", forge=True)
    updates = await aiobot.get_updates(timeout=0)
    assert updates[-1].callback_query is not None and updates[-1].callback_query.data == "c1:close:9"
    assert updates[-1].callback_query.id == forged
    resident = await client.send_message(group["id"], BOB, "hi")
    with pytest.raises(SimulatorError, match="bot's messages"):
        await client.press_button(group["id"], resident["message_id"], BOB, "x", forge=True)
    with pytest.raises(TimeoutError):
        await client.wait_callback_answer(forged, timeout=0.2)


async def test_waiting_for_the_bot_wakes_on_its_message_and_checks_the_predicate(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await aiobot.send_message(group["id"], "早先的消息")
    asked = await client.send_message(group["id"], ALICE, "/status")

    async def bot_answers() -> None:
        await asyncio.sleep(0.1)
        await aiobot.send_message(group["id"], "处理中")
        await asyncio.sleep(0.1)
        await aiobot.send_message(group["id"], "状态：正常")

    started = time.monotonic()
    answering = asyncio.create_task(bot_answers())
    found = await client.wait_for_bot_message(
        group["id"], lambda m: m["text"].startswith("状态"), timeout=3, after_message_id=asked["message_id"]
    )
    await answering
    assert found["text"] == "状态：正常" and time.monotonic() - started < 2.5
    assert (await client.wait_for_bot_message(group["id"]))["text"] == "早先的消息"  # existing ones count
    with pytest.raises(TimeoutError, match="last messages"):
        await client.wait_for_bot_message(group["id"], timeout=0.3, after_message_id=found["message_id"])


async def test_waiting_for_an_edit(aiobot: Bot, client: SimulatorClient, group: dict) -> None:
    card = await aiobot.send_message(group["id"], "待接单", reply_markup=keyboard("claim"))

    async def claim() -> None:
        await asyncio.sleep(0.1)
        await aiobot.edit_message_text("处理中", chat_id=group["id"], message_id=card.message_id)
        await aiobot.edit_message_text("已接单：鲍勃", chat_id=group["id"], message_id=card.message_id)

    claiming = asyncio.create_task(claim())
    edited = await client.wait_for_edit(
        group["id"], card.message_id, lambda m: "鲍勃" in m["text"], timeout=3
    )
    await claiming
    assert edited["text"] == "已接单：鲍勃" and "edit_date" in edited
    since = await client.last_event_seq()
    with pytest.raises(TimeoutError):
        await client.wait_for_edit(group["id"], card.message_id, timeout=0.2, since=since)


async def test_members_join_and_leave_as_service_messages(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.add_user(303, "新邻居")
    await client.add_member(group["id"], 303)
    await client.remove_member(group["id"], BOB, by_user_id=ALICE)
    updates = await aiobot.get_updates(timeout=0)
    joined, left = (u.message for u in updates)
    assert joined is not None and joined.new_chat_members is not None and joined.new_chat_members[0].id == 303
    assert left is not None and left.left_chat_member is not None and left.left_chat_member.id == BOB
    assert left.from_user is not None and left.from_user.id == ALICE
    assert (await client.chat(group["id"]))["members"][str(BOB)] == "left"


async def test_privacy_mode_hides_plain_group_messages(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.set_bot(can_read_all_group_messages=False)
    assert (await aiobot.get_me()).can_read_all_group_messages is False
    card = await aiobot.send_message(group["id"], "有事请回复")
    await client.send_message(group["id"], ALICE, "普通聊天")
    await client.send_message(group["id"], ALICE, "/report 漏水")
    await client.send_message(group["id"], ALICE, "回复机器人", reply_to_message_id=card.message_id)
    await client.send_message(group["id"], ALICE, "/other@another_bot")
    texts = [u.message.text for u in await aiobot.get_updates(timeout=0) if u.message]
    assert texts == ["/report 漏水", "回复机器人"]
    await client.add_bot(group["id"], status="administrator")  # an admin bot sees everything
    await client.send_message(group["id"], ALICE, "现在能看到")
    assert (await aiobot.get_updates(timeout=0))[-1].message.text == "现在能看到"  # type: ignore[union-attr]


async def test_event_stream_reports_everything_in_order(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    received: list[dict] = []

    async def follow() -> None:
        async for event in client.events(chat_id=group["id"]):
            received.append(event)
            if event["type"] == "callback_answer":
                return

    following = asyncio.create_task(follow())
    await asyncio.sleep(0.1)
    asked = await client.send_message(group["id"], ALICE, "报名")
    card = await aiobot.send_message(group["id"], "活动", reply_markup=keyboard("join"))
    await aiobot.edit_message_reply_markup(
        chat_id=group["id"], message_id=card.message_id, reply_markup=keyboard("join", "quit")
    )
    query_id = await client.press_button(group["id"], card.message_id, ALICE, "join")
    await aiobot.answer_callback_query(query_id, text="已报名")
    await asyncio.wait_for(following, 3)
    assert [e["type"] for e in received] == [
        "message",
        "message",
        "edit",
        "callback_query",
        "callback_answer",
    ]
    assert received[0]["message"]["message_id"] == asked["message_id"] and received[1]["from_bot"] is True
    assert [e["seq"] for e in received] == sorted(e["seq"] for e in received)


async def test_reset_forgets_everything_but_the_bot(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.send_message(group["id"], ALICE, "x")
    await aiobot.send_message(group["id"], "y")
    await client.reset()
    stats = await client.stats()
    assert stats["sent"] == 0 and stats["updates_pending"] == 0
    assert await client.chats() == []
    assert (await aiobot.get_me()).id == BOT_ID


async def test_any_token_mode_takes_the_bot_id_from_the_first_token() -> None:
    async with SimulatorApp() as sim:
        bot = Bot("123456:OTHER", session=AiohttpSession(api=TelegramAPIServer.from_base(sim.url)))
        try:
            assert (await bot.get_me()).id == 123456 == bot.id
        finally:
            await bot.session.close()


async def test_running_simulator_helper_gives_a_server_and_a_client() -> None:
    async with running_simulator(bot_username="helper_bot") as (sim, client):
        assert (await client.info())["bot"]["username"] == "helper_bot"
        assert sim.url.startswith("http://127.0.0.1:")
