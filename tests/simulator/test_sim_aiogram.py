"""The real aiogram 3 Bot calls every simulated method over HTTP and parses every answer."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from simulator import SimulatorApp, SimulatorClient
from simulator.media import solid_png

TOKEN = "7000000001:TEST-token_for-simulator"
BOT_ID, ALICE, BOB = 7000000001, 101, 102


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d) for d in data]]
    )


async def test_get_me_describes_the_configured_bot(aiobot: Bot) -> None:
    me = await aiobot.get_me()
    assert me.id == BOT_ID == aiobot.id
    assert me.is_bot and me.username == "linli_shuoshi_bot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is True
    assert me.supports_inline_queries is False


async def test_send_message_returns_a_full_message_with_reply_and_keyboard(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    asked = await client.send_message(group["id"], ALICE, "3单元电梯坏了")
    sent = await aiobot.send_message(
        group["id"],
        "<b>已登记</b> 案件 #12",
        parse_mode="HTML",
        reply_parameters=ReplyParameters(message_id=asked["message_id"]),
        reply_markup=keyboard("c1:claim:12"),
    )
    assert sent.message_id == asked["message_id"] + 1
    assert sent.chat.id == group["id"] and sent.chat.type == "group" and sent.chat.title == "1号楼"
    assert sent.from_user is not None and sent.from_user.id == BOT_ID and sent.from_user.is_bot
    assert sent.text == "已登记 案件 #12"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 0, 3)
    ]  # "#12": digits only, no hashtag
    assert sent.reply_to_message is not None and sent.reply_to_message.text == "3单元电梯坏了"
    assert sent.reply_to_message.from_user is not None and sent.reply_to_message.from_user.id == ALICE
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "c1:claim:12"
    stored = await client.bot_messages(group["id"])
    assert stored[-1]["text"] == "已登记 案件 #12"


async def test_legacy_reply_to_message_id_and_other_keyboards_are_accepted(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    asked = await client.send_message(group["id"], BOB, "楼道灯不亮")
    replied = await aiobot.send_message(group["id"], "请说明楼层", reply_to_message_id=asked["message_id"])
    assert replied.reply_to_message is not None and replied.reply_to_message.message_id == asked["message_id"]
    forced = await aiobot.send_message(group["id"], "几楼？", reply_markup=ForceReply(selective=True))
    assert forced.reply_markup is None  # Telegram returns only inline keyboards
    await aiobot.send_message(
        group["id"], "选一个", reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="3楼")]])
    )
    assert (await client.chat(group["id"]))["reply_keyboard"]["keyboard"][0][0]["text"] == "3楼"
    await aiobot.send_message(group["id"], "好的", reply_markup=ReplyKeyboardRemove())
    assert (await client.chat(group["id"]))["reply_keyboard"] is None
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await aiobot.send_message(group["id"], "x", reply_parameters=ReplyParameters(message_id=999))


async def test_text_limits_are_those_of_telegram(aiobot: Bot, group: dict) -> None:
    await aiobot.send_message(group["id"], "长" * 4096)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await aiobot.send_message(group["id"], "长" * 4097)
    # the limit applies after entity parsing: tags do not count
    await aiobot.send_message(group["id"], "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await aiobot.send_message(group["id"], "   ")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await aiobot.send_message(group["id"], "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await aiobot.send_message(group["id"], "x", reply_markup=keyboard("d" * 65))


async def test_edits_behave_like_telegram(aiobot: Bot, client: SimulatorClient, group: dict) -> None:
    sent = await aiobot.send_message(group["id"], "待接单", reply_markup=keyboard("claim"))
    edited = await aiobot.edit_message_text(
        "已接单", chat_id=group["id"], message_id=sent.message_id, reply_markup=keyboard("done")
    )
    assert not isinstance(edited, bool)
    assert edited.text == "已接单" and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aiobot.edit_message_text(
            "已接单", chat_id=group["id"], message_id=sent.message_id, reply_markup=keyboard("done")
        )
    markup_edit = await aiobot.edit_message_reply_markup(
        chat_id=group["id"], message_id=sent.message_id, reply_markup=keyboard("rate:5")
    )
    assert not isinstance(markup_edit, bool) and markup_edit.reply_markup is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aiobot.edit_message_reply_markup(
            chat_id=group["id"], message_id=sent.message_id, reply_markup=keyboard("rate:5")
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await aiobot.edit_message_text("x", chat_id=group["id"], message_id=4242)
    user_message = await client.send_message(group["id"], ALICE, "我的消息")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await aiobot.edit_message_text("x", chat_id=group["id"], message_id=user_message["message_id"])
    # leaving reply_markup out of editMessageText removes the keyboard, as on Telegram
    await aiobot.edit_message_text("已办结", chat_id=group["id"], message_id=sent.message_id)
    current = await client.message(group["id"], sent.message_id)
    assert current["text"] == "已办结" and "reply_markup" not in current


async def test_callback_answer_is_recorded_for_the_test_side(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    card = await aiobot.send_message(group["id"], "案件 #3", reply_markup=keyboard("c1:claim:3"))
    query_id = await client.press_button(group["id"], card.message_id, BOB, "c1:claim:3")
    updates = await aiobot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert query is not None and query.id == query_id and query.data == "c1:claim:3"
    assert query.from_user.id == BOB and query.message is not None
    assert query.message.message_id == card.message_id
    assert await aiobot.answer_callback_query(query_id, text="已接单", show_alert=True) is True
    answer = await client.wait_callback_answer(query_id, timeout=1)
    assert answer["text"] == "已接单" and answer["show_alert"] is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await aiobot.answer_callback_query(query_id, text="again")


async def test_commands_are_stored_per_scope(aiobot: Bot, client: SimulatorClient) -> None:
    scope = BotCommandScopeAllGroupChats()
    assert await aiobot.set_my_commands([BotCommand(command="report", description="报事")], scope=scope)
    assert await aiobot.set_my_commands([BotCommand(command="help", description="帮助")])
    assert [c.command for c in await aiobot.get_my_commands(scope=scope)] == ["report"]
    assert [c.command for c in await aiobot.get_my_commands()] == ["help"]
    assert len(await client.commands()) == 2
    assert await aiobot.delete_my_commands(scope=scope)
    assert await aiobot.get_my_commands(scope=scope) == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await aiobot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_webhook_settings_round_trip(aiobot: Bot) -> None:
    assert (await aiobot.get_webhook_info()).url == ""
    assert await aiobot.set_webhook(
        "http://127.0.0.1:9/hook", secret_token="s3cret", drop_pending_updates=True
    )
    info = await aiobot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook" and info.pending_update_count == 0
    assert await aiobot.delete_webhook()
    assert (await aiobot.get_webhook_info()).url == ""


async def test_photos_and_documents_are_stored_and_downloadable(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    png = solid_png(640, 480)
    photo = await aiobot.send_photo(
        group["id"], BufferedInputFile(png, "leak.png"), caption="<i>现场</i>", parse_mode="HTML"
    )
    assert photo.photo is not None and photo.caption == "现场"
    largest = photo.photo[-1]
    assert (largest.width, largest.height) == (640, 480) and largest.file_size == len(png)
    file = await aiobot.get_file(largest.file_id)
    assert file.file_path is not None and file.file_size == len(png)
    assert (await aiobot.download_file(file.file_path)).read() == png  # type: ignore[union-attr]
    doc = await aiobot.send_document(
        group["id"], BufferedInputFile("楼栋,户数\n1,48\n".encode(), "rooms.csv")
    )
    assert doc.document is not None and doc.document.file_name == "rooms.csv"
    assert doc.document.mime_type == "text/csv" and doc.document.file_size == len(
        "楼栋,户数\n1,48\n".encode()
    )
    again = await aiobot.send_document(group["id"], doc.document.file_id)  # resend by file_id
    assert again.document is not None and again.document.file_unique_id == doc.document.file_unique_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await aiobot.send_photo(group["id"], "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await aiobot.send_photo(group["id"], BufferedInputFile(b"not a picture", "x.jpg"))
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await aiobot.get_file("nope")
    user_photo = await client.send_message(group["id"], ALICE, photo=True, caption="漏水")
    assert (await aiobot.get_file(user_photo["photo"][-1]["file_id"])).file_size


async def test_chat_and_member_queries_allow_a_rights_check(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    chat = await aiobot.get_chat(group["id"])
    assert chat.id == group["id"] and chat.title == "1号楼" and chat.type == "group"
    me = await aiobot.get_chat_member(group["id"], BOT_ID)
    assert me.status == ChatMemberStatus.MEMBER
    creator = await aiobot.get_chat_member(group["id"], ALICE)
    assert creator.status == ChatMemberStatus.CREATOR
    assert [m.user.id for m in await aiobot.get_chat_administrators(group["id"])] == [ALICE]
    await client.add_bot(group["id"], status="administrator")
    me = await aiobot.get_chat_member(group["id"], BOT_ID)
    assert me.status == ChatMemberStatus.ADMINISTRATOR and me.can_delete_messages  # type: ignore[union-attr]
    assert {m.user.id for m in await aiobot.get_chat_administrators(group["id"])} == {ALICE, BOT_ID}
    assert await aiobot.get_chat_member_count(group["id"]) == 3
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await aiobot.get_chat_member(group["id"], 999999)


async def test_delete_action_pin_and_leave(aiobot: Bot, client: SimulatorClient, group: dict) -> None:
    sent = await aiobot.send_message(group["id"], "临时通知")
    assert await aiobot.send_chat_action(group["id"], "typing")
    resident = await client.send_message(group["id"], BOB, "广告")
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await aiobot.delete_message(group["id"], resident["message_id"])
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await aiobot.pin_chat_message(group["id"], sent.message_id)
    await client.add_bot(group["id"], status="administrator")
    assert await aiobot.pin_chat_message(group["id"], sent.message_id)
    assert (await aiobot.get_chat(group["id"])).pinned_message is not None
    assert await aiobot.delete_message(group["id"], resident["message_id"])
    assert await aiobot.delete_message(group["id"], sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await aiobot.delete_message(group["id"], sent.message_id)
    assert sent.message_id not in [m["message_id"] for m in await client.messages(group["id"])]
    assert await aiobot.leave_chat(group["id"])
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
        await aiobot.send_message(group["id"], "还在吗")


async def test_flood_limit_raises_retry_after(aiobot: Bot, client: SimulatorClient, group: dict) -> None:
    await client.set_limits(enabled=True)
    for n in range(3):  # Telegram lets a short burst through
        await aiobot.send_message(group["id"], f"第{n}条")
    with pytest.raises(TelegramRetryAfter) as caught:
        await aiobot.send_message(group["id"], "太快了")
    assert caught.value.retry_after >= 1
    stats = await client.stats()
    assert stats["429"] == 1 and stats["sent"] == 3


async def test_kicked_migrated_and_forced_errors_map_to_aiogram_exceptions(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    new_id = await client.migrate_chat(group["id"])
    with pytest.raises(TelegramMigrateToChat) as migrated:
        await aiobot.send_message(group["id"], "旧群")
    assert migrated.value.migrate_to_chat_id == new_id
    await aiobot.send_message(new_id, "新群")
    await client.kick_bot(new_id)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup chat"):
        await aiobot.send_message(new_id, "还在吗")
    other = await client.create_chat("2号楼")
    await client.fail_next("sendMessage", 429, count=1, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as limited:
        await aiobot.send_message(other["id"], "x")
    assert limited.value.retry_after == 7
    await client.fail_next("sendMessage", 500)
    with pytest.raises(TelegramServerError):
        await aiobot.send_message(other["id"], "x")
    await aiobot.send_message(other["id"], "恢复了")


async def test_slow_answers_provoke_client_timeouts(
    sim: SimulatorApp, client: SimulatorClient, group: dict
) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sim.url), timeout=0.3)
    bot = Bot(TOKEN, session=session)
    try:
        await client.set_delay("sendMessage", 1.0, count=1)
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await bot.send_message(group["id"], "慢")
        await bot.send_message(group["id"], "快")
    finally:
        await bot.session.close()


async def test_a_wrong_token_is_unauthorized() -> None:
    async with SimulatorApp(token=TOKEN) as sim:
        bot = Bot("7000000001:wrong", session=AiohttpSession(api=TelegramAPIServer.from_base(sim.url)))
        try:
            with pytest.raises(TelegramUnauthorizedError):
                await bot.get_me()
        finally:
            await bot.session.close()


async def test_captions_bulk_deletes_unpinning_and_log_out(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    photo = await aiobot.send_photo(
        group["id"], BufferedInputFile(solid_png(10, 10), "a.png"), caption="旧说明"
    )
    edited = await aiobot.edit_message_caption(
        chat_id=group["id"], message_id=photo.message_id, caption="新说明"
    )
    assert not isinstance(edited, bool) and edited.caption == "新说明"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aiobot.edit_message_caption(chat_id=group["id"], message_id=photo.message_id, caption="新说明")
    with pytest.raises(TelegramBadRequest, match="no text in the message"):
        await aiobot.edit_message_text("x", chat_id=group["id"], message_id=photo.message_id)
    texts = [await aiobot.send_message(group["id"], f"{n}") for n in range(3)]
    assert await aiobot.delete_messages(group["id"], [m.message_id for m in texts])
    assert [m["message_id"] for m in await client.bot_messages(group["id"])] == [photo.message_id]
    await client.add_bot(group["id"], status="administrator")
    assert await aiobot.pin_chat_message(group["id"], photo.message_id)
    assert await aiobot.unpin_chat_message(group["id"])
    assert (await client.chat(group["id"]))["pinned_message_id"] is None
    assert await aiobot.log_out() is True
