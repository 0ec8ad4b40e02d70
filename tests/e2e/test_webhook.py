"""Webhook mode through the simulator's webhook delivery, for both frameworks."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import BotRunner, build_core
from simulator.testing import TEST_TOKEN, running_simulator
from tests.e2e.conftest import ADMIN_ID, RESIDENT_ID, bot_settings

SECRET = "webhook-secret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_webhook_mode_handles_updates_and_refuses_a_wrong_secret(tmp_path: Path, framework: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    async with running_simulator() as (sim, client):
        await client.add_user(ADMIN_ID, "周红")
        await client.add_user(RESIDENT_ID, "张大爷")
        group = (await client.create_chat("3栋业主群", type="supergroup"))["id"]
        settings = bot_settings(
            sim.url, tmp_path / "bot.db", bot_framework=framework, run_mode="webhook",
            webhook_url=url, webhook_host="127.0.0.1", webhook_port=port, webhook_secret=SECRET,
        )
        runner = BotRunner(await build_core(settings))
        await runner.start()
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{sim.url}/bot{TEST_TOKEN}/getWebhookInfo") as resp:
                    assert (await resp.json())["result"]["url"] == url
            await client.send_message(group, ADMIN_ID, "/bind 3栋")
            await client.wait_for_bot_message(group, lambda m: "已绑定" in m["text"], timeout=10)
            await client.send_message(group, RESIDENT_ID, "3栋电梯坏了")
            card = await client.wait_for_bot_message(group, lambda m: m["text"].startswith("已登记 #1"), timeout=10)
            assert "报修" in card["text"]
            async with aiohttp.ClientSession() as http:
                forged = {"update_id": 999999, "message": {"message_id": 1, "date": 0, "chat": {"id": group, "type": "supergroup"}, "text": "电梯坏了"}}
                async with http.post(url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as resp:
                    assert resp.status == 401
                async with http.post(url, data="garbage", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
                    assert resp.status == 400
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    health = await resp.json()
                    assert health["ok"] and health["dead_letters"] == 0
            async with runner.core.uow() as uow:
                assert not await uow.inbox.is_handled(999999)
                assert await uow.cases.count_active(1) == 1
        finally:
            await runner.stop()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sim.url}/bot{TEST_TOKEN}/getWebhookInfo") as resp:
                assert (await resp.json())["result"]["url"] == ""
