"""getUpdates as Telegram runs it: offsets confirm, long polls wait and wake, one poller at a time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from aiogram import Bot

from simulator import SimulatorApp, SimulatorClient

TOKEN = "7000000001:TEST-token_for-simulator"
ALICE, BOB = 101, 102


async def raw(sim: SimulatorApp, method: str, how: str = "json", **params: Any) -> tuple[int, dict]:
    """Call the Bot API by hand as JSON, form or query string; return (status, body)."""
    url = f"{sim.url}/bot{TOKEN}/{method}"
    async with aiohttp.ClientSession() as session:
        if how == "json":
            request = session.post(url, json=params)
        elif how == "form":
            request = session.post(url, data={k: str(v) for k, v in params.items()})
        else:
            request = session.get(url, params={k: str(v) for k, v in params.items()})
        async with request as response:
            return response.status, await response.json()


async def test_pending_updates_come_at_once_and_offset_confirms_them(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    for n in range(5):
        await client.send_message(group["id"], ALICE, f"消息{n}")
    started = time.monotonic()
    first = await aiobot.get_updates(timeout=10, limit=2)
    assert time.monotonic() - started < 5  # not the 10 s timeout
    assert [u.message.text for u in first if u.message] == ["消息0", "消息1"]
    # an update is forgotten once getUpdates is called with a higher offset, not before
    again = await aiobot.get_updates(timeout=0, limit=2)
    assert [u.update_id for u in again] == [u.update_id for u in first]
    rest = await aiobot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["消息2", "消息3", "消息4"]
    assert (await client.stats())["updates_pending"] == 3
    assert await aiobot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == []
    assert (await client.stats())["updates_pending"] == 0


async def test_long_poll_waits_for_timeout_and_wakes_on_a_new_update(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    started = time.monotonic()
    assert await aiobot.get_updates(timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 4

    async def later() -> None:
        await asyncio.sleep(0.2)
        await client.send_message(group["id"], BOB, "醒醒")

    started = time.monotonic()
    _, updates = await asyncio.gather(later(), aiobot.get_updates(timeout=10))
    assert time.monotonic() - started < 5  # woken long before the 10 s timeout
    assert updates[0].message is not None and updates[0].message.text == "醒醒"


async def test_negative_offset_keeps_only_the_last_updates(
    sim: SimulatorApp, client: SimulatorClient, group: dict
) -> None:
    for n in range(4):
        await client.send_message(group["id"], ALICE, f"m{n}")
    status, body = await raw(sim, "getUpdates", offset=-1)
    assert status == 200 and [u["message"]["text"] for u in body["result"]] == ["m3"]
    assert (await client.stats())["updates_pending"] == 1


async def test_json_form_and_query_string_requests_are_all_understood(
    sim: SimulatorApp, client: SimulatorClient, group: dict
) -> None:
    for how in ("json", "form", "get"):
        status, body = await raw(sim, "sendMessage", how, chat_id=group["id"], text=f"via {how}")
        assert status == 200 and body["ok"] and body["result"]["text"] == f"via {how}"
    status, body = await raw(
        sim,
        "sendMessage",
        "form",
        chat_id=group["id"],
        text="表单键盘",
        reply_markup='{"inline_keyboard":[[{"text":"a","callback_data":"a"}]]}',
    )
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    status, body = await raw(
        sim, "SENDMESSAGE", chat_id=group["id"], text="大小写"
    )  # names are case-insensitive
    assert status == 200


async def test_unknown_methods_and_bad_chats_answer_like_telegram(sim: SimulatorApp) -> None:
    assert await raw(sim, "sendPigeon", chat_id=1) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    status, body = await raw(sim, "sendMessage", chat_id=-1, text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    status, body = await raw(sim, "sendMessage", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")


async def test_allowed_updates_filter_types(aiobot: Bot, client: SimulatorClient, group: dict) -> None:
    await client.add_member(group["id"], 303)  # a chat_member update is not sent by default
    updates = await aiobot.get_updates(timeout=0)
    assert [u.event_type for u in updates] == ["message"]
    await aiobot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=["chat_member"], timeout=0)
    await client.send_message(group["id"], ALICE, "不要的消息")
    await client.remove_member(group["id"], 303)
    updates = await aiobot.get_updates(timeout=0)
    assert [u.event_type for u in updates] == ["chat_member"]
    assert updates[0].chat_member is not None and updates[0].chat_member.new_chat_member.status == "left"


async def test_a_second_poller_terminates_the_first_with_409(sim: SimulatorApp) -> None:
    first = asyncio.create_task(raw(sim, "getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(raw(sim, "getUpdates", timeout=0.3))
    status, body = await first
    assert status == 409 and "terminated by other getUpdates request" in body["description"]
    assert (await second)[0] == 200


async def test_get_updates_conflicts_with_a_webhook(aiobot: Bot, sim: SimulatorApp) -> None:
    await aiobot.set_webhook("http://127.0.0.1:9/never")
    status, body = await raw(sim, "getUpdates")
    assert status == 409 and "webhook is active" in body["description"]
    await aiobot.delete_webhook()
    assert (await raw(sim, "getUpdates"))[0] == 200
