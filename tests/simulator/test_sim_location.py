"""Users send location pins and forwarded messages; both real clients parse them as Telegram's."""

from __future__ import annotations

import pytest
import telegram
from aiogram import Bot

from handlers import translate
from simulator import SimulatorClient, SimulatorError

ALICE = 101


async def test_location_and_forward_reach_both_clients(
    aiobot: Bot, ptbbot: telegram.Bot, client: SimulatorClient, group: dict
) -> None:
    pin = await client.send_message(group["id"], ALICE, location=(31.2304, 121.4737))
    assert pin["location"] == {"latitude": 31.2304, "longitude": 121.4737} and "text" not in pin
    forward = await client.send_message(group["id"], ALICE, "通知：明天停水", forwarded_from="物业公告")
    assert forward["forward_origin"]["type"] == "hidden_user" and forward["forward_origin"]["sender_user_name"] == "物业公告"
    plain = await client.send_message(group["id"], ALICE, "你好")
    assert "forward_origin" not in plain

    updates = await aiobot.get_updates(timeout=0)
    events = [translate.incoming(u.message, u.update_id) for u in updates if u.message]
    assert [(e.media, e.location, e.forwarded) for e in events] == [
        ("location", (31.2304, 121.4737), False), (None, None, True), (None, None, False)
    ]
    ptb_updates = await ptbbot.get_updates(timeout=0)
    ptb_events = [translate.incoming(u.message, u.update_id) for u in ptb_updates if u.message]
    assert [(e.location, e.forwarded, e.text) for e in ptb_events] == [
        ((31.2304, 121.4737), False, ""), (None, True, "通知：明天停水"), (None, False, "你好")
    ]


async def test_bad_locations_are_refused(client: SimulatorClient, group: dict) -> None:
    with pytest.raises(SimulatorError, match="latitude"):
        await client.send_message(group["id"], ALICE, location=(123.0, 10.0))
    with pytest.raises(SimulatorError, match="one of"):
        await client.send_message(group["id"], ALICE, photo=True, location=(31.0, 121.0))
