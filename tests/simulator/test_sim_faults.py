"""Faults a test switches on: kicked bot, migrated group, forced errors, slow answers, private-chat rules."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramServerError,
)

from simulator import SimulatorClient, SimulatorError

BOT_ID, ALICE, BOB = 7000000001, 101, 102


async def test_kicked_bot_gets_403_and_a_my_chat_member_update(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.kick_bot(group["id"], by_user_id=ALICE)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was kicked from the group chat"):
        await aiobot.send_message(group["id"], "还在吗")
    updates = await aiobot.get_updates(timeout=0)
    change = updates[-1].my_chat_member
    assert change is not None and change.chat.id == group["id"] and change.from_user.id == ALICE
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("member", "kicked")
    assert change.new_chat_member.user.id == BOT_ID
    # residents keep talking, but the bot no longer hears them
    await client.send_message(group["id"], BOB, "它走了")
    assert await aiobot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []
    await client.add_bot(group["id"], by_user_id=ALICE)
    back = await aiobot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert back[0].my_chat_member is not None and back[0].my_chat_member.new_chat_member.status == "member"
    assert back[1].message is not None and back[1].message.new_chat_members is not None
    assert back[1].message.new_chat_members[0].id == BOT_ID
    await aiobot.send_message(group["id"], "我回来了")


async def test_migration_answers_400_with_the_new_id_and_emits_service_messages(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    new_id = await client.migrate_chat(group["id"])
    assert str(new_id).startswith("-100")
    with pytest.raises(TelegramMigrateToChat) as caught:
        await aiobot.send_message(group["id"], "旧群")
    assert caught.value.migrate_to_chat_id == new_id
    assert "group chat was upgraded to a supergroup chat" in caught.value.message
    updates = await aiobot.get_updates(timeout=0)
    old_side, new_side = (u.message for u in updates)
    assert old_side is not None and old_side.chat.id == group["id"] and old_side.migrate_to_chat_id == new_id
    assert new_side is not None and new_side.chat.id == new_id and new_side.chat.type == "supergroup"
    assert new_side.migrate_from_chat_id == group["id"]
    chat = await client.chat(group["id"])
    assert chat["migrated_to_chat_id"] == new_id
    sent = await aiobot.send_message(new_id, "新群")
    assert sent.chat.title == "1号楼"
    with pytest.raises(SimulatorError, match="migrated"):
        await client.send_message(group["id"], ALICE, "旧群还能说话吗")


async def test_forced_failures_last_exactly_count_calls(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.fail_next("sendMessage", 503, count=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await aiobot.send_message(group["id"], "x")
    await aiobot.send_message(group["id"], "好了")
    await client.fail_next("*", 400, description="Bad Request: custom failure")
    with pytest.raises(TelegramBadRequest, match="custom failure"):
        await aiobot.get_me()
    assert (await aiobot.get_me()).id == BOT_ID
    stats = await client.stats()
    assert stats["errors"] == {"503": 2, "400": 1}


async def test_private_chat_needs_start_and_blocking_is_reported(
    aiobot: Bot, client: SimulatorClient
) -> None:
    await client.add_user(ALICE, "爱丽丝")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await aiobot.send_message(ALICE, "你好")
    start = await client.send_message(ALICE, ALICE, "/start")
    assert start["chat"] == {"id": ALICE, "type": "private", "first_name": "爱丽丝"}
    assert start["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    await aiobot.send_message(ALICE, "欢迎")
    await client.block_private(ALICE)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await aiobot.send_message(ALICE, "在吗")
    updates = await aiobot.get_updates(timeout=0)
    assert [u.event_type for u in updates] == ["message", "my_chat_member"]
    assert (
        updates[1].my_chat_member is not None and updates[1].my_chat_member.new_chat_member.status == "kicked"
    )
    await client.send_message(ALICE, ALICE, "/start")  # unblocking and starting again
    await aiobot.send_message(ALICE, "欢迎回来")
