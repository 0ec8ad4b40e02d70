"""The activity dialogue and sign-ups through the real clients and the simulator (both frameworks)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import ADMIN_ID, NEIGHBOUR_ID, RESIDENT_ID, World


async def ask(w: World, text: str, expect: str) -> dict[str, Any]:
    """The admin writes in private; returns the bot's reply containing ``expect``."""
    sent = await w.say(ADMIN_ID, ADMIN_ID, text)
    return await w.client.wait_for_bot_message(
        ADMIN_ID, lambda m: expect in m.get("text", ""), after_message_id=sent["message_id"]
    )


async def test_admin_creates_an_activity_and_residents_sign_up(world: World) -> None:
    w, client = world, world.client
    # The admin answers many steps within a minute: ADMIN_IDS are spared by the flood guard.
    await w.say(ADMIN_ID, ADMIN_ID, "/start")
    await ask(w, "/activity", "第 1 步")
    await ask(w, "周末读书会", "第 2 步")
    await ask(w, "/cancel", "已取消")
    await ask(w, "/activity", "第 1 步")
    await ask(w, "垃圾分类宣讲\n带上家里的分类问题", "第 2 步")
    await ask(w, "2月30日 10点", "不存在")
    await ask(w, "2020-01-01 10:00", "已经过去了")
    await ask(w, "2099-11-28 15:00", "第 3 步")
    await ask(w, "社区活动室", "第 4 步")
    await ask(w, "3栋", "第 5 步")
    await ask(w, "零", "大于 0 的整数")
    preview = await ask(w, "1", "预览")
    assert "垃圾分类宣讲" in preview["text"] and "已报名 0/1" in preview["text"]
    published = await w.press(ADMIN_ID, preview, ADMIN_ID, "发布")
    assert published["text"] == "已发布到 1 个群"

    notice = await client.wait_for_bot_message(w.building, lambda m: "垃圾分类宣讲" in m.get("text", ""))
    first = await w.press(w.building, notice, RESIDENT_ID, "报名")
    assert first["text"] == "报名成功：垃圾分类宣讲"
    await client.wait_for_edit(w.building, notice["message_id"], lambda m: "已报名 1/1" in m["text"])
    second = await w.press(w.building, notice, NEIGHBOUR_ID, "报名")
    assert "候补第 1 位" in second["text"]
    await client.wait_for_edit(w.building, notice["message_id"], lambda m: "候补 1 人" in m["text"])
    left = await w.press(w.building, notice, RESIDENT_ID, "取消报名")
    assert left["text"] == "已取消报名。"
    await client.wait_for_edit(
        w.building, notice["message_id"], lambda m: "已报名 1/1" in m["text"] and "候补" not in m["text"]
    )
