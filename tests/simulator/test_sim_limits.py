"""Flood limits as Telegram enforces them, and the figures that let a test assert "limits kept"."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from simulator import SimulatorApp, SimulatorClient
from simulator.config import Limits
from simulator.ratelimit import FloodControl

ALICE = 101


def test_defaults_are_telegrams() -> None:
    limits = SimulatorApp().config.limits
    assert (limits.enabled, limits.global_per_s, limits.per_chat_per_s) == (True, 30, 1.0)
    assert (limits.per_chat_burst, limits.per_group_per_min, limits.count_edits) == (3, 20, False)


def test_chat_bucket_refills_at_one_message_per_second() -> None:
    flood = FloodControl(Limits())
    for t in (0.0, 0.1, 0.2):
        assert flood.check(1, False, now=t) is None
        flood.consume(1, False, now=t)
    refusal = flood.check(1, False, now=0.3)
    assert refusal is not None and (refusal.scope, refusal.retry_after) == ("chat", 1)
    assert flood.check(1, False, now=1.25) is None
    assert flood.check(2, False, now=0.3) is None  # other chats are not affected


def test_group_window_is_twenty_per_minute() -> None:
    flood = FloodControl(Limits(per_chat_burst=100, per_chat_per_s=100))
    for n in range(20):
        flood.consume(-5, True, now=n * 0.5)
    refusal = flood.check(-5, True, now=10.0)
    assert refusal is not None and refusal.scope == "group" and refusal.retry_after == 50
    assert flood.check(-5, True, now=60.01) is None
    assert flood.check(7, False, now=10.0) is None  # a private chat has no per-minute limit


async def test_burst_then_429_with_retry_after_and_counted(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.set_limits(enabled=True)
    since = await client.last_event_seq()
    for n in range(3):
        await aiobot.send_message(group["id"], f"通知{n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await aiobot.send_message(group["id"], "第四条")
    assert caught.value.retry_after == 1
    stats = await client.stats()
    assert stats["sent"] == 3 and stats["429"] == 1 and stats["429_by_scope"] == {"chat": 1}
    assert stats["per_chat"] == {str(group["id"]): 3}
    assert stats["max_rate_per_chat_per_s"] == 3 and stats["max_per_group_per_min"] == 3
    events = await client.wait_event(since=since, types=["rate_limited"], timeout=1)
    assert events[0]["chat_id"] == group["id"] and events[0]["retry_after"] == 1


async def test_group_and_global_limits(aiobot: Bot, client: SimulatorClient, group: dict) -> None:
    await client.set_limits(enabled=True, per_chat_per_s=1000, per_chat_burst=1000, per_group_per_min=5)
    for n in range(5):
        await aiobot.send_message(group["id"], f"{n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await aiobot.send_message(group["id"], "超")
    assert 55 <= caught.value.retry_after <= 60
    await client.set_limits(global_per_s=3, per_group_per_min=1000)
    others = [await client.create_chat(f"{n}号楼") for n in range(2, 6)]
    await asyncio.sleep(1.0)  # let the global one-second window pass
    for chat in others[:3]:
        await aiobot.send_message(chat["id"], "广播")
    with pytest.raises(TelegramRetryAfter):
        await aiobot.send_message(others[3]["id"], "广播")
    assert (await client.stats())["429_by_scope"] == {"group": 1, "global": 1}


async def test_a_sender_that_paces_itself_gets_no_429(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.set_limits(enabled=True, per_chat_per_s=20, per_chat_burst=1)
    for n in range(8):
        await aiobot.send_message(group["id"], f"{n}")
        await asyncio.sleep(0.06)
    stats = await client.stats()
    assert stats["sent"] == 8 and stats["429"] == 0


async def test_edits_are_not_counted_unless_configured(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.set_limits(enabled=True, per_chat_burst=1)
    sent = await aiobot.send_message(group["id"], "v0")
    for n in range(1, 4):
        await aiobot.edit_message_text(f"v{n}", chat_id=group["id"], message_id=sent.message_id)
    await client.set_limits(count_edits=True)
    with pytest.raises(TelegramRetryAfter):
        await aiobot.edit_message_text("v9", chat_id=group["id"], message_id=sent.message_id)
    assert (await client.stats())["edits"] == 3


async def test_limits_switch_off_for_micro_benchmarks(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.set_limits(enabled=False)
    await asyncio.gather(*(aiobot.send_message(group["id"], f"{n}") for n in range(100)))
    stats = await client.stats()
    assert stats["sent"] == 100 and stats["429"] == 0
    ids = [m["message_id"] for m in await client.bot_messages(group["id"])]
    assert ids == sorted(ids) and len(set(ids)) == 100
