"""Masking of personal data in anything shown publicly: phone, ID and plate numbers, rooms, names."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
_PLATE = re.compile(
    r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])\s?([A-Z])[·\s]?([A-Z0-9]{5,6})(?![A-Z0-9])"
)
_ROOM = re.compile(
    r"(\d{1,2}\s?(?:单元|門|门))\s?-?\s?\d{2,4}\s?(?:室|号|房)?"
    r"|(?<![\d.])\d{1,3}-\d{1,2}-\d{3,4}(?!\d)"
    r"|(?<![\d.])\d{3,4}\s?(?:室|房)"
)


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """The text with phone, landline, ID and plate numbers, room numbers and the given names masked."""
    masked = _ID_CARD.sub(lambda m: m.group(1)[:2] + "*" * 14 + m.group(3)[-2:], text)
    masked = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", masked)
    masked = _LANDLINE.sub(lambda m: f"{m.group(1)}-****", masked)
    masked = _PLATE.sub(lambda m: f"{m.group(1)}{m.group(2)}·***", masked)
    masked = _ROOM.sub(lambda m: (m.group(1) or "") + "***", masked)
    for name in sorted({n for n in names if len(n) >= 2}, key=len, reverse=True):
        masked = masked.replace(name, name[0] + "*" * (len(name) - 1))
    return masked


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: max(limit - 1, 1)] + "…"
