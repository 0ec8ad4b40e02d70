"""Kill the bot process at random points while residents write and press; nothing is lost or doubled.
(bench/crash.py runs the full 1,000-update, 20-kill version for both frameworks.)"""

from __future__ import annotations

import signal
from pathlib import Path

from tests.crash_harness import run_crash


async def test_sigkill_at_random_points_loses_nothing_and_doubles_no_case_or_press(tmp_path: Path) -> None:
    report = await run_crash(tmp_path, framework="aiogram", groups=12, chat_per_group=5, kills=3, sig=signal.SIGKILL)
    assert report.kills == 3
    assert report.cases == report.cases_expected, report
    assert all(count == 2 for count in report.supporters.values()) and len(report.supporters) == 12, report
    assert report.unhandled == 0 and report.dead == 0, report
    assert report.cards - report.card_duplicates == 12, report


async def test_sigterm_delivers_nothing_twice(tmp_path: Path) -> None:
    report = await run_crash(tmp_path, framework="ptb", groups=8, chat_per_group=4, kills=2, sig=signal.SIGTERM)
    assert report.ok, report
    assert report.card_duplicates == 0 and report.reply_duplicates == 0, report
