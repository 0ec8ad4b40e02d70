"""`python -m simulator` prints its URL, serves the Bot API and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


async def test_command_line_server_starts_and_stops() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--token-any",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        assert line.startswith("Telegram Bot API simulator on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        async with aiohttp.ClientSession() as session, session.get(f"{url}/bot1:x/getMe") as response:
            body = await response.json()
        assert body["ok"] and body["result"]["is_bot"] is True
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
