"""`python -m simulator`: run the Bot API simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from simulator.config import Limits, SimulatorConfig
from simulator.server import SimulatorApp


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    defaults = SimulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="Local Telegram Bot API simulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    tokens = parser.add_mutually_exclusive_group()
    tokens.add_argument("--token-any", action="store_true", help="accept any bot token (the default)")
    tokens.add_argument("--token", help="accept only this bot token")
    parser.add_argument("--bot-username", default=defaults.bot_username)
    parser.add_argument("--bot-name", default=defaults.bot_first_name)
    parser.add_argument(
        "--privacy", action="store_true", help="privacy mode on: the bot sees only commands/replies"
    )
    parser.add_argument("--no-limits", action="store_true", help="switch off flood limits")
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run the simulator until SIGINT/SIGTERM."""
    config = SimulatorConfig(
        token=args.token,
        bot_username=args.bot_username,
        bot_first_name=args.bot_name,
        can_read_all_group_messages=not args.privacy,
        limits=Limits(enabled=not args.no_limits),
    )
    sim = SimulatorApp(config)
    await sim.start(args.host, args.port)
    print(f"Telegram Bot API simulator on {sim.url}", flush=True)
    print(f"  aiogram: TelegramAPIServer.from_base({sim.url!r})", flush=True)
    print(f"  PTB:     base_url={sim.url + '/bot'!r}, base_file_url={sim.url + '/file/bot'!r}", flush=True)
    print(f"  test side: {sim.url}/_sim/info, events: {sim.url}/_sim/events", flush=True)
    print(f"  chat page: {sim.url}/  (open it in a browser)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # loops without Unix signals (Windows)
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
