"""Helpers for end-to-end tests elsewhere in the project: a running simulator plus its test-side client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from simulator.client import SimulatorClient
from simulator.server import SimulatorApp

TEST_TOKEN = "7000000001:SIMULATOR-test-token"


@asynccontextmanager
async def running_simulator(**settings: Any) -> AsyncIterator[tuple[SimulatorApp, SimulatorClient]]:
    """Start a simulator on a free 127.0.0.1 port and yield it with a connected SimulatorClient.

    `settings` are SimulatorConfig fields, e.g. `limits=Limits(enabled=False)` or `bot_username="x_bot"`.
    Bots should use TEST_TOKEN (its id 7000000001 is the simulated bot's) or any "<id>:<secret>" token.
    """
    sim = SimulatorApp(**settings)
    await sim.start("127.0.0.1", 0)
    try:
        async with SimulatorClient(sim.url) as client:
            yield sim, client
    finally:
        await sim.stop()
