"""Command parsing shared by both adapters (Telegram's rules, not a framework's)."""

from __future__ import annotations


def parse_command(text: str, bot_username: str) -> tuple[str, str] | None:
    """(name, args) when ``text`` is a command for this bot; None for plain text or another bot's command."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text.partition(" ")
    name, _, mention = head[1:].partition("@")
    if mention and bot_username and mention.lower() != bot_username.lower():
        return None
    if not name or not name.replace("_", "").isalnum():
        return None
    return name, args.strip()
