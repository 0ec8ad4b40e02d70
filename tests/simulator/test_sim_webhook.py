"""Webhook delivery: updates are POSTed with the secret header, retried on failure, replies executed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from simulator import SimulatorApp, SimulatorClient

ALICE = 101


class Receiver:
    """A local webhook endpoint that records what arrives and can fail on purpose."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, str | None]] = []
        self.failures_left = 0
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        """Record one delivery."""
        if self.failures_left > 0:
            self.failures_left -= 1
            return web.Response(status=500)
        self.received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.arrived.set()
        return web.json_response({})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A running Receiver and its URL."""
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield target, f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    await runner.cleanup()


async def test_updates_are_posted_with_the_secret_and_retried(
    sim: SimulatorApp, aiobot: Bot, client: SimulatorClient, group: dict, receiver: tuple[Receiver, str]
) -> None:
    sim.config.webhook_retry_delay = 0.05
    target, url = receiver
    target.failures_left = 2
    await aiobot.set_webhook(url, secret_token="s3cret-token", max_connections=1)
    sent = [await client.send_message(group["id"], ALICE, f"第{n}条") for n in range(3)]
    for _ in range(100):
        if len(target.received) == 3:
            break
        await asyncio.sleep(0.02)
    assert [update["message"]["text"] for update, _ in target.received] == [m["text"] for m in sent]
    assert {secret for _, secret in target.received} == {"s3cret-token"}
    info = await aiobot.get_webhook_info()
    assert info.pending_update_count == 0 and info.last_error_message is not None
    assert "500" in info.last_error_message


async def test_a_real_aiogram_webhook_app_answers_through_the_webhook_reply(
    sim: SimulatorApp, aiobot: Bot, client: SimulatorClient, group: dict
) -> None:
    router = Router()

    @router.message()
    async def echo(message: Message) -> object:
        return message.answer(f"收到：{message.text}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dispatcher, aiobot, secret_token="abc", handle_in_background=False).register(
        app, "/wh"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await aiobot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/wh", secret_token="abc")
        asked = await client.send_message(group["id"], ALICE, "电梯坏了")
        answer = await client.wait_for_bot_message(
            group["id"], after_message_id=asked["message_id"], timeout=3
        )
        assert answer["text"] == "收到：电梯坏了"
    finally:
        await aiobot.delete_webhook()
        await runner.cleanup()
