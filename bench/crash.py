"""Crash-safety run: 1,000 mixed updates per framework, the bot killed 20 times (SIGKILL, then SIGTERM).

    .venv/bin/python bench/crash.py [--groups 100] [--kills 20]

Prints, per framework and signal: updates, kills, cases (expected one per group), presses recorded
once, cards and how many were delivered twice, and anything left unhandled or parked.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crash_harness import run_crash


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--chat", type=int, default=8, help="chat messages per group")
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    print(f"{'framework':<9} {'signal':<8} {'updates':>7} {'kills':>5} {'cases':>9} {'presses once':>12} "
          f"{'cards':>6} {'twice':>5} {'+1 replies':>10} {'twice':>5} {'left':>4} {'dead':>4} {'secs':>6}  ok")
    for sig in (signal.SIGKILL, signal.SIGTERM):
        for framework in ("aiogram", "ptb"):
            with tempfile.TemporaryDirectory() as tmp:
                r = await run_crash(Path(tmp), framework=framework, groups=args.groups, chat_per_group=args.chat,
                                    kills=args.kills, sig=sig, seed=7)
            once = sum(1 for count in r.supporters.values() if count == 2)
            print(f"{r.framework:<9} {r.signal:<8} {r.updates:>7} {r.kills:>5} {r.cases:>4}/{r.cases_expected:<4} "
                  f"{once:>5}/{r.groups:<6} {r.cards:>6} {r.card_duplicates:>5} {r.duplicate_replies:>10} "
                  f"{r.reply_duplicates:>5} {r.unhandled:>4} {r.dead:>4} {r.seconds:>6.0f}  {'yes' if r.ok else 'NO'}")


if __name__ == "__main__":
    asyncio.run(main())
