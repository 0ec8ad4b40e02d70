"""Callback data parsing and the masking of personal data in public posts."""

from __future__ import annotations

import pytest

from bot.core.callbacks import CallbackData, parse_callback
from bot.core.errors import BadInput
from bot.core.privacy import mask_text, shorten


def test_callback_round_trip_and_limit() -> None:
    data = CallbackData("rate", 123456789012, "good")
    assert parse_callback(data.pack()) == data
    assert len(data.pack().encode()) <= 64


@pytest.mark.parametrize(
    "forged",
    [None, "", "c1", "c1:claim", "c2:claim:1", "c1:HACK:1", "c1:muchtoolongaction:1", "c1:cl4im:1", "c1:claim:-1", "c1:claim:１", "c1:claim:1:坏",
     "c1:claim:1:a:b", "c1:claim:" + "9" * 20, "x" * 65],
)
def test_forged_callback_data_is_refused(forged: str | None) -> None:
    with pytest.raises(BadInput):
        parse_callback(forged)


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("电话13812345678找我", "12345678", "138****5678"),
        ("手机 138-1234-5678", "1234-5678", "138****5678"),
        ("身份证110101199003071234丢了", "19900307", "11**************34"),
        ("京A12345 占了我的车位", "12345", "京A·***"),
        ("粤B·D12345停在消防通道", "D12345", "粤B·***"),
        ("2单元301漏水", "301", "2单元***"),
        ("3-2-502 装修太吵", "502", "***"),
        ("1202室 天天吵", "1202", "***"),
        ("座机0571-88889999", "88889999", "0571-****"),
    ],
)
def test_personal_data_is_masked(text: str, hidden: str, kept: str) -> None:
    masked = mask_text(text)
    assert hidden not in masked
    assert kept in masked


def test_roster_names_are_masked() -> None:
    assert mask_text("王建国家的狗又叫了", ["王建国"]) == "王**家的狗又叫了"


def test_building_names_and_plain_numbers_survive() -> None:
    assert mask_text("3栋电梯坏了，等了20分钟") == "3栋电梯坏了，等了20分钟"


def test_shorten_collapses_whitespace_and_cuts() -> None:
    assert shorten("a  b\nc", 10) == "a b c"
    assert shorten("一二三四五六", 4) == "一二三…"
