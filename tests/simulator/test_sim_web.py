"""What the web chat page relies on: the page itself, people with labels, files, force_reply, restarts."""

from __future__ import annotations

import aiohttp
from aiogram import Bot
from aiogram.types import BufferedInputFile, ForceReply

from simulator import SimulatorApp, SimulatorClient
from simulator.media import solid_png

from .conftest import ALICE, BOB


async def test_browsers_get_the_chat_page_and_programs_still_get_json(sim: SimulatorApp) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(sim.url + "/", headers={"Accept": "text/html,*/*"}) as response:
            page = await response.text()
            assert response.content_type == "text/html"
        assert "/web/app.js" in page and "/web/app.css" in page
        for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
            async with session.get(f"{sim.url}/web/{name}") as response:
                assert response.status == 200 and response.content_type == kind
                assert response.headers["Cache-Control"] == "no-cache"
        for bad in ("../server.py", "nothing.js", ".hidden.css"):
            async with session.get(f"{sim.url}/web/{bad}") as response:
                assert response.status == 404
        async with session.get(sim.url + "/") as response:
            body = await response.json()
        assert body["result"]["simulator"] == "Telegram Bot API"


async def test_people_carry_page_labels_that_never_reach_the_bot(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    await client.add_user(ALICE, "爱丽丝", label="1号楼 · 楼栋长")
    message = await client.send_message(group["id"], ALICE, "大家好")
    assert "label" not in message["from"]
    people = {p["user"]["id"]: p for p in await client.people()}
    assert people[ALICE]["label"] == "1号楼 · 楼栋长" and people[BOB]["label"] is None
    assert people[ALICE]["private_chat"] is False
    await client.send_message(ALICE, ALICE, "/start")
    people = {p["user"]["id"]: p for p in await client.people()}
    assert people[ALICE]["private_chat"] is True
    updates = await aiobot.get_updates()
    assert all("label" not in u.model_dump_json() for u in updates)
    info = await client.info()
    assert info["instance"] and info["title"]


async def test_files_the_bot_sends_are_served_to_the_page(
    aiobot: Bot, client: SimulatorClient, group: dict, sim: SimulatorApp
) -> None:
    photo = await aiobot.send_photo(group["id"], BufferedInputFile(solid_png(40, 30), "chart.png"))
    document = await aiobot.send_document(group["id"], BufferedInputFile("编号,类别\n1,报修\n".encode(), "导出.csv"))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sim.url}/_sim/file", params={"file_id": photo.photo[-1].file_id}) as response:
            assert response.content_type == "image/png"
            assert (await response.read()).startswith(b"\x89PNG")
        params = {"file_id": document.document.file_id, "name": "导出.csv"}
        async with session.get(f"{sim.url}/_sim/file", params=params) as response:
            assert "attachment" in response.headers["Content-Disposition"]
            assert (await response.read()).decode() == "编号,类别\n1,报修\n"
        async with session.get(f"{sim.url}/_sim/file", params={"file_id": "nope"}) as response:
            assert response.status == 404


async def test_force_reply_is_announced_on_the_event_but_kept_out_of_the_message(
    aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    since = await client.last_event_seq()
    sent = await aiobot.send_message(group["id"], "请回复本消息", reply_markup=ForceReply(selective=True))
    (event,) = await client.wait_event(since, types=["message"], chat_id=group["id"])
    assert event["client_markup"]["force_reply"] is True
    assert "reply_markup" not in await client.message(group["id"], sent.message_id)


async def test_a_snapshot_brings_back_chats_files_and_update_numbers(
    aiobot: Bot, client: SimulatorClient, group: dict, sim: SimulatorApp
) -> None:
    await client.add_user(ALICE, "爱丽丝", label="居民")
    await client.send_message(group["id"], ALICE, "3栋电梯坏了")
    photo = await aiobot.send_photo(group["id"], BufferedInputFile(solid_png(20, 20), "a.png"))
    updates = await aiobot.get_updates()
    snapshot = sim.world.snapshot()

    later = SimulatorApp()
    later.world.restore(snapshot)
    later.world.continue_updates_after(0)
    assert later.world.messages(group["id"])[0]["text"] == "3栋电梯坏了"
    assert later.world.user_labels[ALICE] == "居民"
    assert later.world.files[photo.photo[-1].file_id].data == solid_png(20, 20)
    later.world.user_sends(group["id"], BOB, "还有我")
    (update,) = later.world.pending_updates(10)
    assert update["update_id"] > updates[-1].update_id
    message = later.world.user_sends(group["id"], BOB, "新消息")
    assert message["message_id"] > photo.message_id


async def test_a_new_simulator_can_number_updates_after_those_a_bot_already_confirmed() -> None:
    fresh = SimulatorApp(first_update_id=500)
    fresh.world.add_user(ALICE, "爱丽丝")
    chat = fresh.world.create_chat("1号楼")
    fresh.world.user_sends(chat["id"], ALICE, "你好")
    fresh.world.continue_updates_after(900)
    fresh.world.user_sends(chat["id"], ALICE, "你好")
    assert [u["update_id"] for u in fresh.world.pending_updates(10)] == [500, 901]
