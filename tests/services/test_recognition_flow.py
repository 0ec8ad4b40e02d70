"""Duplicates merged with +1, the ask flow's category buttons, and admins tuning keywords — with the real classifier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Core, build_classifier, build_core
from bot.config import Settings
from bot.core.classification import Classifier
from bot.core.clock import ManualClock
from storage.models import CaseRow, CaseSupporterRow, PendingAskRow
from tests.conftest import (
    ADMIN,
    BUILDING_CHAT,
    NEIGHBOUR,
    RESIDENT,
    STAFF_CHAT,
    VOLUNTEER,
    Events,
    sqlite_url,
)
from tests.services.test_case_flow import outbox, setup_community

THIRD = RESIDENT.__class__(1003, "王奶奶")


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The real jieba classifier (built once for the module)."""
    return build_classifier()


@pytest.fixture
async def real(tmp_path: Path, clock: ManualClock, classifier: Classifier) -> AsyncIterator[Core]:
    settings = Settings(_env_file=None, database_url=sqlite_url(tmp_path), admin_ids=[ADMIN.user_id])
    built = await build_core(settings, clock=clock, classifier=classifier)
    yield built
    await built.engine.dispose()


async def rows(core: Core, model: type) -> list:
    async with core.uow() as uow:
        assert uow.session is not None
        found = list(await uow.session.scalars(select(model)))
        uow.session.expunge_all()
        return found


async def test_same_problem_twice_is_merged_with_plus_one(real: Core, ev: Events) -> None:
    await setup_community(real, ev)
    await real.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋电梯坏了，老人下不了楼"))
    second = ev.message(BUILDING_CHAT, NEIGHBOUR, "电梯又坏了，谁来修修")
    await real.services.handle_message(second)
    assert len(await rows(real, CaseRow)) == 1
    reply = next(r for r in await outbox(real) if r.reply_to_message_id == second.message_id)
    assert "已有同类工单 #1" in reply.text and "c1:plus:1" in (reply.buttons or "")
    third = await real.services.handle_press(ev.press(BUILDING_CHAT, THIRD, "c1:plus:1"))
    assert third.text == "已记录：共 3 位居民遇到这个问题。"
    again = await real.services.handle_press(ev.press(BUILDING_CHAT, THIRD, "c1:plus:1"))
    assert again.text == "你已经 +1 过了。"
    reporter = await real.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:plus:1"))
    assert "反映人" in reporter.text
    assert {r.user_id for r in await rows(real, CaseSupporterRow)} == {NEIGHBOUR.user_id, THIRD.user_id}
    assert any("受影响居民：3 位" in r.text for r in await outbox(real) if r.chat_id == STAFF_CHAT.chat_id)
    # the echo tells how many were affected
    await real.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    await real.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "更换了电梯主板"))
    echo = next(r for r in await outbox(real) if r.ref == "case:1:echo")
    assert "共 3 位居民反映" in echo.text


async def test_different_problem_in_same_category_opens_its_own_case(real: Core, ev: Events) -> None:
    await setup_community(real, ev)
    await real.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋电梯坏了"))
    await real.services.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "3栋门口的路灯坏了，晚上黑乎乎的"))
    assert [c.category for c in await rows(real, CaseRow)] == ["repair", "repair"]


async def test_author_picks_another_category_and_the_answer_is_recorded(real: Core, ev: Events) -> None:
    await setup_community(real, ev)
    real.deps.classifier = real.deps.classifier.with_taxonomy({"threshold": 0.999})  # type: ignore[attr-defined]
    await real.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "小区的树好久没修剪了，挡住阳台"))
    question = (await outbox(real))[-1]
    assert question.text.startswith("这是要登记的诉求吗？") and "c1:ask:1:suggestion" in (question.buttons or "")
    answer = await real.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:ask:1:suggestion"))
    assert answer.text == "已登记 #1"
    (case,) = await rows(real, CaseRow)
    assert case.category == "suggestion"
    (ask,) = await rows(real, PendingAskRow)
    assert ask.answer == "suggestion" and ask.answered_at is not None
    forged = await real.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:ask:1:nonsense"))
    assert forged.text == "这条询问已经处理过了。"


async def test_a_complaint_that_names_no_topic_is_asked_about_and_the_author_names_it(real: Core, ev: Events) -> None:
    # "我要投诉" is a request, but about what? The bot asks the author instead of guessing `other`.
    await setup_community(real, ev)
    await real.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "我要投诉"))
    assert await rows(real, CaseRow) == []
    question = (await outbox(real))[-1]
    assert question.text.startswith("这是要登记的诉求吗？") and "c1:ask:1:property" in (question.buttons or "")
    # A neighbour cannot answer for the author; the author's choice opens the case in that category.
    other = await real.services.handle_press(ev.press(BUILDING_CHAT, NEIGHBOUR, "c1:ask:1:property"))
    assert await rows(real, CaseRow) == [] and other.text
    answer = await real.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:ask:1:property"))
    assert answer.text == "已登记 #1"
    (case,) = await rows(real, CaseRow)
    assert case.category == "property"


async def test_keyword_changes_by_admin_take_effect_at_once_and_survive_restart(
    real: Core, ev: Events, tmp_path: Path, clock: ManualClock, classifier: Classifier
) -> None:
    await setup_community(real, ev)
    before = real.deps.classifier.classify("水压低")
    await real.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "keyword", "add 报修 水压低"))
    assert "只有社区管理员" in (await outbox(real))[-1].text
    assert real.deps.classifier.classify("水压低") == before
    await real.services.handle_command(ev.command(STAFF_CHAT, ADMIN, "keyword", "add 报修 水压低 3"))
    assert (await outbox(real))[-1].text == "已把「水压低」加入「报修」的关键词，立即生效。"
    assert real.deps.classifier.classify("5楼水压低，洗不了澡").category == "repair"
    for bad in ("add 报修", "add 火星 水压低", "add 报修 水压低 99", "del 报修 没有这个词"):
        await real.services.handle_command(ev.command(STAFF_CHAT, ADMIN, "keyword", bad))
        assert "生效" not in (await outbox(real))[-1].text, bad
    await real.engine.dispose()
    settings = Settings(_env_file=None, database_url=sqlite_url(tmp_path), admin_ids=[ADMIN.user_id])
    restarted = await build_core(settings, clock=clock, classifier=classifier)
    try:
        assert restarted.deps.classifier.classify("5楼水压低，洗不了澡").category == "repair"
    finally:
        await restarted.engine.dispose()


async def test_reload_reports_an_invalid_rules_file_and_applies_a_valid_one(
    real: Core, ev: Events, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("default: {due_hours: -1}\n", encoding="utf-8")
    real.deps.rules_path = rules
    await real.services.handle_command(ev.command(STAFF_CHAT, ADMIN, "reload"))
    assert "规则文件有误" in (await outbox(real))[-1].text and "due_hours" in (await outbox(real))[-1].text
    rules.write_text("taxonomy:\n  categories:\n    repair: {keywords: {水压低: 3}}\n", encoding="utf-8")
    await real.services.handle_command(ev.command(STAFF_CHAT, ADMIN, "reload"))
    assert (await outbox(real))[-1].text.startswith("已重新加载规则")
    assert real.deps.classifier.classify("水压低，洗不了澡").category == "repair"


async def test_public_case_view_hides_residents_and_dispute_details(real: Core, ev: Events) -> None:
    await setup_community(real, ev)
    await real.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋电梯坏了，老人下不了楼"))
    await real.services.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "电梯又坏了，谁来修修"))
    await real.services.handle_command(ev.command(BUILDING_CHAT, THIRD, "case", "1"))
    public = (await outbox(real))[-1].text
    assert "张大爷" not in public and "李阿姨" not in public and "住户" in public
    await real.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "楼上王建国家装修噪音太大，天天吵到半夜"))
    await real.services.handle_command(ev.command(BUILDING_CHAT, THIRD, "case", "2"))
    dispute = (await outbox(real))[-1].text
    assert "邻里纠纷" in dispute and "王建国" not in dispute and "详情不公开" in dispute


async def test_staff_notices_and_replies_in_a_building_group_open_no_case(real: Core, ev: Events) -> None:
    # Volunteers, building heads and property staff name problems all day in the group (notices,
    # answers); their own reports go through a private chat or the staff group. Only an emergency
    # they post in the group is registered, and a community may let every staff message count.
    await setup_community(real, ev)
    await real.services.handle_message(ev.message(BUILDING_CHAT, VOLUNTEER, "3栋电梯坏了，维修师傅下午两点到"))
    await real.services.handle_message(ev.message(BUILDING_CHAT, VOLUNTEER, "楼道灯坏了的那家，师傅明天上午来换"))
    assert await rows(real, CaseRow) == []
    await real.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋电梯坏了，老人下不了楼"))
    await real.services.handle_message(ev.message(BUILDING_CHAT, VOLUNTEER, "5楼楼道冒黑烟了 好像着火了 快打119"))
    cases = await rows(real, CaseRow)
    assert [(c.category, c.urgent, c.reporter_id) for c in cases] == [
        ("repair", False, RESIDENT.user_id),
        ("safety", True, VOLUNTEER.user_id),
    ]
    real.deps.rules = real.deps.rules.model_copy(update={"staff_messages_open_cases": True})
    await real.services.handle_message(ev.message(BUILDING_CHAT, VOLUNTEER, "2单元门口的路灯坏了，晚上黑乎乎的"))
    assert len(await rows(real, CaseRow)) == 3


async def test_replies_to_a_case_count_as_me_too_and_other_problems_open_their_own(real: Core, ev: Events) -> None:
    # In a group, "我家也是" or "+1" under a report or its card is the same problem; thanks are not, and a
    # different problem in a reply is a report of its own.
    await setup_community(real, ev)
    fourth = RESIDENT.__class__(1004, "赵阿姨")
    report = ev.message(BUILDING_CHAT, RESIDENT, "3栋电梯坏了，老人下不了楼")
    await real.services.handle_message(report)
    card = next(r for r in await outbox(real) if r.ref == "case:1:card")
    async with real.uow() as uow:
        await uow.outbox.mark_sent(card.id, 900, real.deps.clock.now())
        await uow.commit()
    me_too = ev.message(BUILDING_CHAT, NEIGHBOUR, "我家也是，等了一上午了", reply_to_message_id=report.message_id)
    await real.services.handle_message(me_too)
    plus = ev.message(BUILDING_CHAT, THIRD, "+1", reply_to_message_id=900)
    await real.services.handle_message(plus)
    thanks = ev.message(BUILDING_CHAT, fourth, "谢谢楼长", reply_to_message_id=900)
    await real.services.handle_message(thanks)
    own = ev.message(BUILDING_CHAT, RESIDENT, "电梯还是不动，什么时候修", reply_to_message_id=900)
    await real.services.handle_message(own)
    other = ev.message(BUILDING_CHAT, fourth, "我们楼门口的垃圾好几天没人收了，臭死了", reply_to_message_id=900)
    await real.services.handle_message(other)

    assert {r.user_id for r in await rows(real, CaseSupporterRow)} == {NEIGHBOUR.user_id, THIRD.user_id}
    assert [(c.number, c.category) for c in await rows(real, CaseRow)] == [(1, "repair"), (2, "sanitation")]
    replies = {r.reply_to_message_id: r.text for r in await outbox(real)}
    assert "已有同类工单 #1" in replies[me_too.message_id] and "已有同类工单 #1" in replies[plus.message_id]
    assert thanks.message_id not in replies and own.message_id not in replies
    assert replies[other.message_id].startswith("已登记 #2")


async def test_a_reply_to_a_finished_case_or_by_staff_is_no_plus_one(real: Core, ev: Events) -> None:
    await setup_community(real, ev)
    report = ev.message(BUILDING_CHAT, RESIDENT, "3栋电梯坏了，老人下不了楼")
    await real.services.handle_message(report)
    await real.services.handle_message(
        ev.message(BUILDING_CHAT, VOLUNTEER, "我们也在催，师傅下午到", reply_to_message_id=report.message_id)
    )
    assert await rows(real, CaseSupporterRow) == []
    await real.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    await real.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "更换了电梯主板"))
    await real.services.handle_message(
        ev.message(BUILDING_CHAT, NEIGHBOUR, "我家也是", reply_to_message_id=report.message_id)
    )
    assert await rows(real, CaseSupporterRow) == []


def test_a_bad_me_too_pattern_in_the_rules_file_is_a_clear_error(tmp_path: Path) -> None:
    from bot.config import load_rules

    bad = tmp_path / "rules.yaml"
    bad.write_text("duplicates:\n  me_too: '我家也(是'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"me_too.*not a valid regular expression"):
        load_rules(bad)
