"""Process lifecycle: one place that turns Ctrl-C and SIGTERM into a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (call inside the running loop).

    ``add_signal_handler`` raises NotImplementedError where the loop has no Unix signals (Windows);
    there Ctrl-C still ends the process through KeyboardInterrupt.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
