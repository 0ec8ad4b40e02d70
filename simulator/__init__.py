"""A local stand-in for Telegram's Bot API, for end-to-end tests, benchmarks and the demo.

Start it in-process (`SimulatorApp` / `start_simulator`) or as `python -m simulator`; point aiogram or
python-telegram-bot at its URL; act as residents and inject faults with `SimulatorClient`.
"""

from simulator.client import SimulatorClient, SimulatorError
from simulator.config import Limits, SimulatorConfig
from simulator.server import SimulatorApp, start_simulator
from simulator.testing import TEST_TOKEN, running_simulator

__all__ = [
    "TEST_TOKEN",
    "Limits",
    "SimulatorApp",
    "SimulatorClient",
    "SimulatorConfig",
    "SimulatorError",
    "running_simulator",
    "start_simulator",
]
