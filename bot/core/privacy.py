"""Masking of personal data in anything shown publicly: phone, ID and plate numbers, rooms, names."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PHONE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)[(（]?(0\d{2,3})[)）]?[\s-]?(\d{7,8})(?!\d)")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
_PLATE = re.compile(
    r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])\s?([A-Z])[·\s\-]?([A-Z0-9]{5,6})(?![A-Z0-9])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_HANDLE = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z][A-Za-z0-9_]{4,31}")
# Rooms: the unit, building or floor before the room number is kept, the room number masked.
_ROOM = re.compile(
    r"(\d{1,2}\s?(?:单元|門|门))\s?-?\s?\d{2,4}\s?(?:室|号|房)?"
    r"|([一二三四五六七八九十]{1,3}单元)[零〇一二三四五六七八九]{3,4}"
    r"|(\d{1,3}\s?(?:栋|幢|号楼|楼)|[A-Z]座)\s?-?\s?\d{3,4}(?!\d)\s?(?:室|号|房)?"
    r"|(?<![\d.\-])\d{1,3}-\d{1,2}-\d{3,4}(?!\d)"
    r"|(?<![\d.\-:/])\d{1,2}-\d{3,4}(?![\d\-])"
    r"|(?<![\d.])\d{3,4}\s?(?:室|房间|房)"
)
_NUMERAL_ROOM_KEEP = (1, 2, 3)


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """The text with phone, landline, ID and plate numbers, e-mail addresses, @handles, room numbers and the
    given names masked."""
    masked = _ID_CARD.sub(lambda m: m.group(1)[:2] + "*" * 14 + m.group(3)[-2:], text)
    masked = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", masked)
    masked = _LANDLINE.sub(lambda m: f"{m.group(1)}-****", masked)
    masked = _PLATE.sub(lambda m: f"{m.group(1)}{m.group(2)}·***", masked)
    masked = _EMAIL.sub("***@***", masked)
    masked = _HANDLE.sub("@***", masked)
    masked = _ROOM.sub(lambda m: next((m.group(i) for i in _NUMERAL_ROOM_KEEP if m.group(i)), "") + "***", masked)
    for name in sorted({n for n in names if len(n) >= 2}, key=len, reverse=True):
        masked = masked.replace(name, name[0] + "*" * (len(name) - 1))
    return masked


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: max(limit - 1, 1)] + "…"
