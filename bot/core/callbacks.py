"""Versioned callback data for inline buttons (``c1:<action>:<id>[:<arg>]``); it carries no authority."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import BadInput

VERSION = "c1"
# Actions are short lowercase words; the dispatcher refuses the ones no feature registered.
_ACTION_MAX = 12


@dataclass(frozen=True, slots=True)
class CallbackData:
    """A parsed button payload."""

    action: str
    target_id: int
    arg: str = ""

    def pack(self) -> str:
        """The string placed in the button (always under Telegram's 64-byte limit)."""
        parts = [VERSION, self.action, str(self.target_id)]
        if self.arg:
            parts.append(self.arg)
        packed = ":".join(parts)
        if len(packed.encode()) > 64:
            raise ValueError("callback data over 64 bytes")
        return packed


def parse_callback(data: str | None) -> CallbackData:
    """Parse button data; raises BadInput for anything forged, stale-versioned or malformed."""
    if not data or len(data.encode(errors="replace")) > 64:
        raise BadInput("error.bad_button")
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != VERSION or not _is_action(parts[1]):
        raise BadInput("error.bad_button")
    if not (parts[2].isascii() and parts[2].isdigit()) or len(parts[2]) > 12:
        raise BadInput("error.bad_button")
    arg = parts[3] if len(parts) == 4 else ""
    if len(arg) > 16 or (arg and not (arg.isascii() and arg.isalnum())):
        raise BadInput("error.bad_button")
    return CallbackData(parts[1], int(parts[2]), arg)


def _is_action(word: str) -> bool:
    return 0 < len(word) <= _ACTION_MAX and word.isascii() and word.isalpha() and word.islower()
