"""The real python-telegram-bot 22 Bot calls every simulated method over HTTP and parses every answer."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    ChatMember,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from simulator import SimulatorApp, SimulatorClient
from simulator.media import solid_png

TOKEN = "7000000001:TEST-token_for-simulator"
BOT_ID, ALICE, BOB = 7000000001, 101, 102


def retry_seconds(error: RetryAfter) -> float:
    """Read RetryAfter.retry_after whether PTB gives an int (deprecated) or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def test_get_me_and_bot_identity(ptbbot: telegram.Bot) -> None:
    me = await ptbbot.get_me()
    assert me.id == BOT_ID and me.is_bot and me.username == "linli_shuoshi_bot"
    assert me.can_read_all_group_messages is True and me.supports_inline_queries is False
    assert ptbbot.username == "linli_shuoshi_bot"


async def test_send_and_edit_messages(ptbbot: telegram.Bot, client: SimulatorClient, group: dict) -> None:
    asked = await client.send_message(group["id"], ALICE, "车位被占了")
    sent = await ptbbot.send_message(
        group["id"],
        "*已登记*",
        parse_mode=ParseMode.MARKDOWN_V2,
        reply_parameters=ReplyParameters(asked["message_id"]),
        reply_markup=keyboard("c1:claim:7"),
    )
    assert sent.text == "已登记" and sent.entities[0].type == "bold"
    assert sent.from_user is not None and sent.from_user.id == BOT_ID
    assert sent.reply_to_message is not None and sent.reply_to_message.text == "车位被占了"
    assert (
        sent.reply_markup is not None
        and sent.reply_markup.inline_keyboard[0][0].callback_data == "c1:claim:7"
    )
    legacy = await ptbbot.send_message(group["id"], "收到", reply_to_message_id=asked["message_id"])
    assert legacy.reply_to_message is not None
    await ptbbot.send_message(group["id"], "几号车位？", reply_markup=ForceReply())
    edited = await ptbbot.edit_message_text(
        "已接单", group["id"], sent.message_id, reply_markup=keyboard("done")
    )
    assert isinstance(edited, telegram.Message) and edited.text == "已接单" and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await ptbbot.edit_message_text("已接单", group["id"], sent.message_id, reply_markup=keyboard("done"))
    markup_edit = await ptbbot.edit_message_reply_markup(
        group["id"], sent.message_id, reply_markup=keyboard("ok")
    )
    assert isinstance(markup_edit, telegram.Message)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await ptbbot.edit_message_reply_markup(group["id"], 999, reply_markup=keyboard("x"))
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await ptbbot.send_message(group["id"], "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)reserved and must be escaped"):
        await ptbbot.send_message(group["id"], "1.5", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await ptbbot.send_message(group["id"], "x", reply_markup=keyboard("长" * 22))  # 66 bytes


async def test_updates_and_callback_answers(
    ptbbot: telegram.Bot, client: SimulatorClient, group: dict
) -> None:
    card = await ptbbot.send_message(group["id"], "活动报名", reply_markup=keyboard("act:join:1"))
    await client.send_message(group["id"], BOB, "/join@linli_shuoshi_bot")
    query_id = await client.press_button(group["id"], card.message_id, BOB, "act:join:1")
    updates = await ptbbot.get_updates(timeout=0)
    assert [u.message is not None for u in updates] == [True, False]
    command = updates[0].message
    assert command is not None and command.entities[0].type == "bot_command"
    assert command.parse_entities() == {command.entities[0]: "/join@linli_shuoshi_bot"}
    query = updates[1].callback_query
    assert query is not None and query.id == query_id and query.data == "act:join:1"
    assert query.message is not None and query.message.message_id == card.message_id
    assert await ptbbot.answer_callback_query(query_id, text="报名成功")
    answer = await client.wait_callback_answer(query_id, timeout=1)
    assert answer == {**answer, "text": "报名成功", "show_alert": False}
    assert await ptbbot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_commands_webhook_and_chat_queries(
    ptbbot: telegram.Bot, client: SimulatorClient, group: dict
) -> None:
    assert await ptbbot.set_my_commands(
        [BotCommand("bind", "绑定楼栋")], scope=BotCommandScopeAllGroupChats()
    )
    commands = await ptbbot.get_my_commands(scope=BotCommandScopeAllGroupChats())
    assert [c.command for c in commands] == ["bind"]
    assert await ptbbot.delete_my_commands(scope=BotCommandScopeAllGroupChats())
    assert await ptbbot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == ()
    assert await ptbbot.set_webhook("http://127.0.0.1:9/hook", secret_token="abc")
    assert (await ptbbot.get_webhook_info()).url == "http://127.0.0.1:9/hook"
    assert await ptbbot.delete_webhook()
    chat = await ptbbot.get_chat(group["id"])
    assert chat.title == "1号楼" and chat.type == "group"
    assert (await ptbbot.get_chat_member(group["id"], BOT_ID)).status == ChatMember.MEMBER
    assert (await ptbbot.get_chat_member(group["id"], ALICE)).status == ChatMember.OWNER
    await client.add_bot(group["id"], status="administrator")
    me = await ptbbot.get_chat_member(group["id"], BOT_ID)
    assert isinstance(me, telegram.ChatMemberAdministrator) and me.can_delete_messages
    admins = await ptbbot.get_chat_administrators(group["id"])
    assert {a.user.id for a in admins} == {ALICE, BOT_ID}


async def test_files_actions_pins_deletes_and_leaving(
    ptbbot: telegram.Bot, client: SimulatorClient, group: dict
) -> None:
    png = solid_png(100, 50)
    photo = await ptbbot.send_photo(group["id"], InputFile(png, filename="p.png"), caption="现场照片")
    assert photo.photo[-1].width == 100 and photo.caption == "现场照片"
    file = await ptbbot.get_file(photo.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == png
    doc = await ptbbot.send_document(group["id"], InputFile(b"a,b\n", filename="export.csv"))
    assert doc.document is not None and doc.document.file_name == "export.csv" and doc.document.file_size == 4
    assert bytes(await (await ptbbot.get_file(doc.document.file_id)).download_as_bytearray()) == b"a,b\n"
    assert await ptbbot.send_chat_action(group["id"], "upload_document")
    await client.add_bot(group["id"], status="administrator")
    assert await ptbbot.pin_chat_message(group["id"], doc.message_id)
    assert await ptbbot.delete_message(group["id"], photo.message_id)
    assert await ptbbot.leave_chat(group["id"])
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member"):
        await ptbbot.send_message(group["id"], "x")


async def test_errors_map_to_ptb_exceptions(
    ptbbot: telegram.Bot, client: SimulatorClient, group: dict
) -> None:
    await client.set_limits(enabled=True, per_chat_burst=1)
    await ptbbot.send_message(group["id"], "一")
    with pytest.raises(RetryAfter) as limited:
        await ptbbot.send_message(group["id"], "二")
    assert retry_seconds(limited.value) >= 1
    await client.set_limits(enabled=False)
    new_id = await client.migrate_chat(group["id"])
    with pytest.raises(ChatMigrated) as migrated:
        await ptbbot.send_message(group["id"], "x")
    assert migrated.value.new_chat_id == new_id
    await client.kick_bot(new_id)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked"):
        await ptbbot.send_message(new_id, "x")
    await client.add_user(555, "小李")
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await ptbbot.send_message(555, "你好")
    await client.fail_next("getChat", 502)
    with pytest.raises(NetworkError):
        await ptbbot.get_chat(555)
    await client.set_delay("getMe", 1.0, count=1)
    with pytest.raises(TimedOut):
        await ptbbot.get_me(read_timeout=0.2)


async def test_a_wrong_token_is_invalid_for_ptb() -> None:
    async with SimulatorApp(token=TOKEN) as sim:
        bot = telegram.Bot("7000000001:wrong", base_url=sim.url + "/bot")
        with pytest.raises(InvalidToken):
            await bot.initialize()
