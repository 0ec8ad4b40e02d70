"""Masking of personal data in public posts, on a table of real-looking tricky inputs."""

from __future__ import annotations

import pytest

from bot.core.privacy import mask_text

# (text as residents write it, what must disappear, what the masked text reads)
TRICKY = [
    ("电话：138 1234 5678", "1234", "电话：138****5678"),
    ("+86 13812345678 联系我", "12345678", "138****5678 联系我"),
    ("8613812345678", "12345678", "138****5678"),
    ("13812345678，13912345678都行", "1234", "138****5678，139****5678都行"),
    ("座机(010)88889999", "88889999", "座机010-****"),
    ("0755 12345678找物业", "12345678", "0755-****找物业"),
    ("身份证号11010119900307123X", "19900307", "身份证号11**************3X"),
    ("京A-12345堵门", "12345", "京A·***堵门"),
    ("沪AD12345新能源车", "D12345", "沪A·***新能源车"),
    ("车牌号是川A1B2C3", "1B2C3", "车牌号是川A·***"),
    ("3栋2单元301室漏水", "301", "3栋2单元***漏水"),
    ("房号：2单元 1102", "1102", "房号：2单元***"),
    ("12栋3单元0801噪音", "0801", "12栋3单元***噪音"),
    ("二单元三零一装修", "三零一", "二单元***装修"),
    ("住在1栋502的邻居", "502", "住在1栋***的邻居"),
    ("5楼502天天吵", "502", "5楼***天天吵"),
    ("B座1203养狗", "1203", "B座***养狗"),
    ("我家门牌1-502", "502", "我家门牌***"),
    ("3-2-502装修太吵", "502", "***装修太吵"),
    ("302房间漏水", "302", "***漏水"),
    ("邮箱 zhang.san@example.com", "zhang.san", "邮箱 ***@***"),
    ("加我 @zhangdaye_3 私聊", "zhangdaye", "加我 @*** 私聊"),
]

# Ordinary content that must come through untouched.
UNTOUCHED = [
    "3栋电梯坏了",
    "2026年10月1日电梯坏了",
    "2026-10-31 下午3点停水",
    "早上10:30-11:00停电",
    "5楼楼道灯坏了",
    "订单号20261001123456789",
    "2号楼门口垃圾桶满了",
]


@pytest.mark.parametrize(("text", "hidden", "expected"), TRICKY)
def test_tricky_personal_data_is_masked(text: str, hidden: str, expected: str) -> None:
    masked = mask_text(text)
    assert hidden not in masked
    assert masked == expected


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_content_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_roster_names_are_masked_longest_first_and_single_characters_kept() -> None:
    names = ["王建", "王建国", "李", "欧阳娜娜"]
    assert mask_text("王建国和欧阳娜娜吵架，李老师劝架", names) == "王**和欧***吵架，李老师劝架"
