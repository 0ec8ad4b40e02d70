"""邻里说事 — the residents' group-chat bot: the application core, services and wiring."""

__version__ = "0.1.0"
