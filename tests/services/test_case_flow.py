"""The walking-skeleton flow at the service layer, on a real SQLite database."""

from __future__ import annotations

from sqlalchemy import select

from bot.bootstrap import Core
from bot.core.model import OutboxKind
from bot.core.states import CaseStatus
from storage.models import CaseRow, OutboxRow
from tests.conftest import (
    ADMIN,
    BUILDING_CHAT,
    NEIGHBOUR,
    RESIDENT,
    STAFF_CHAT,
    VOLUNTEER,
    VOLUNTEER2,
    Events,
)


async def outbox(core: Core) -> list[OutboxRow]:
    """Every queued message, oldest first."""
    async with core.uow() as uow:
        assert uow.session is not None
        rows = list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        uow.session.expunge_all()
        return rows


async def cases(core: Core) -> list[CaseRow]:
    """Every case."""
    async with core.uow() as uow:
        assert uow.session is not None
        rows = list(await uow.session.scalars(select(CaseRow).order_by(CaseRow.id)))
        uow.session.expunge_all()
        return rows


async def setup_community(core: Core, ev: Events) -> None:
    """Bind 3栋 and the staff group, make VOLUNTEER and VOLUNTEER2 volunteers."""
    s = core.services
    await s.handle_command(ev.command(BUILDING_CHAT, ADMIN, "bind", "3栋"))
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "bind", "staff"))
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "grant", "volunteer", reply_to=VOLUNTEER))
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "grant", "志愿者", reply_to=VOLUNTEER2))


async def test_admin_binds_group_and_non_admin_is_refused(core: Core, ev: Events) -> None:
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "bind", "3栋"))
    await core.services.handle_command(ev.command(BUILDING_CHAT, ADMIN, "bind", "3栋"))
    texts = [row.text for row in await outbox(core)]
    assert "只有社区管理员" in texts[0]
    assert "已绑定到「3栋」" in texts[1]
    async with core.uow() as uow:
        chat = await uow.chats.get(BUILDING_CHAT.chat_id)
        assert chat is not None and chat.building_id is not None


async def test_bind_without_argument_explains_usage(core: Core, ev: Events) -> None:
    await core.services.handle_command(ev.command(BUILDING_CHAT, ADMIN, "bind", ""))
    assert "用法：/bind" in (await outbox(core))[-1].text


async def test_request_opens_case_with_card_and_dispatch(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    before = len(await outbox(core))
    message = ev.message(BUILDING_CHAT, RESIDENT, "3栋2单元电梯坏了，老人下不了楼")
    await core.services.handle_message(message)
    (case,) = await cases(core)
    assert case.number == 1 and case.category == "repair" and case.status == "open"
    new = (await outbox(core))[before:]
    card = next(r for r in new if r.chat_id == BUILDING_CHAT.chat_id)
    assert card.reply_to_message_id == message.message_id
    assert card.text.startswith("已登记 #1 · 报修 · 3栋 → 已通知：值班群")
    dispatch = next(r for r in new if r.chat_id == STAFF_CHAT.chat_id)
    assert "老人下不了楼" in dispatch.text and "c1:claim:1" in (dispatch.buttons or "")


async def test_chat_opens_nothing_and_gets_no_reply(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    before = len(await outbox(core))
    for text in ("大家早上好", "谢谢", "", "😀"):
        await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, text))
    assert await cases(core) == []
    assert len(await outbox(core)) == before


async def test_repeated_update_changes_nothing(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    message = ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了")
    await core.services.handle_message(message)
    count = len(await outbox(core))
    await core.services.handle_message(message)
    assert len(await cases(core)) == 1
    assert len(await outbox(core)) == count


async def test_first_claim_wins_second_and_resident_refused(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    first = await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:claim:1"))
    second = await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER2, "c1:claim:1"))
    resident = await core.services.handle_press(ev.press(STAFF_CHAT, RESIDENT, "c1:claim:1"))
    assert first.text == "接单成功：#1"
    assert second.text == "已由 李明 接单。"
    assert "只有值班人员" in resident.text
    (case,) = await cases(core)
    assert case.status == "assigned" and case.assignee_id == VOLUNTEER.user_id
    edits = [r for r in await outbox(core) if r.kind == OutboxKind.EDIT.value]
    assert any("已接单（李明）" in r.text for r in edits)


async def test_resolve_asks_for_note_then_echoes_in_group(core: Core, ev: Events, clock) -> None:
    await setup_community(core, ev)
    report = ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了")
    await core.services.handle_message(report)
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:claim:1"))
    clock.advance(hours=2, minutes=10)
    answer = await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    assert "写一句说明" in answer.text
    prompt = (await outbox(core))[-1]
    assert prompt.chat_id == STAFF_CHAT.chat_id and prompt.force_reply
    clock.advance(minutes=5)
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "已联系电梯公司更换控制板，恢复运行"))
    (case,) = await cases(core)
    assert case.status == CaseStatus.RESOLVED.value
    echo = next(r for r in await outbox(core) if r.ref == "case:1:echo")
    assert echo.chat_id == BUILDING_CHAT.chat_id and echo.reply_to_message_id == report.message_id
    assert "已联系电梯公司更换控制板" in echo.text and "值班志愿者 李明" in echo.text and "2小时15分" in echo.text
    assert "c1:rate:1:good" in (echo.buttons or "")


async def test_unsatisfied_reopens_and_tells_assignee_only_reporter_counts(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:claim:1"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "修好了"))
    other = await core.services.handle_press(ev.press(BUILDING_CHAT, NEIGHBOUR, "c1:rate:1:bad"))
    assert other.text == "只有反映人可以评价。"
    await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:rate:1:bad"))
    (case,) = await cases(core)
    assert case.status == "reopened" and case.rating == "unsatisfied"
    assert any("不满意" in r.text and r.chat_id == STAFF_CHAT.chat_id for r in await outbox(core))
    # the assignee can resolve again; then the resident is satisfied and the case closes
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "更换了门禁电源"))
    await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:rate:1:good"))
    (case,) = await cases(core)
    assert case.status == "closed" and case.rating == "satisfied"


async def test_explain_records_reason_publicly(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:explain:1"))
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "配件要从厂家订，需两周，联系电话13812345678"))
    (case,) = await cases(core)
    assert case.status == "explained"
    public = next(r for r in await outbox(core) if r.ref == "case:1:echo")
    assert "配件要从厂家订" in public.text and "13812345678" not in public.text


async def test_unsure_message_asks_author_only_author_counts(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "楼道灯好像有点暗"))
    question = (await outbox(core))[-1]
    assert question.text.startswith("这是要登记的诉求吗？") and "c1:ask:1:y" in (question.buttons or "")
    assert await cases(core) == []
    refused = await core.services.handle_press(ev.press(BUILDING_CHAT, NEIGHBOUR, "c1:ask:1:y"))
    assert refused.text == "只有发这条消息的人可以选择。"
    accepted = await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:ask:1:y"))
    assert accepted.text == "已登记 #1"
    assert len(await cases(core)) == 1
    again = await core.services.handle_press(ev.press(BUILDING_CHAT, RESIDENT, "c1:ask:1:y"))
    assert again.text == "这条询问已经处理过了。" and len(await cases(core)) == 1


async def test_forged_and_stale_buttons_are_refused_politely(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    for data in ("", "hello", "c1:claim:abc", "c9:claim:1", "c1:drop:1", "c1:claim:999", "c1:rate:1:x" * 10):
        answer = await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, data))
        assert answer.text in ("这个按钮已失效。", "这件事不存在或已删除。"), data


async def test_press_on_case_that_moved_on_is_refused(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "已修复"))
    late = await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER2, "c1:claim:1"))
    assert late.text == "这件事当前的状态（已办结）不能这样操作。"


async def test_note_after_the_prompt_expired_is_not_taken_as_resolution(core: Core, ev: Events, clock) -> None:
    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:resolve:1"))
    clock.advance(hours=2)
    await core.services.handle_message(ev.message(STAFF_CHAT, VOLUNTEER, "随便聊聊"))
    (case,) = await cases(core)
    assert case.status == "open"


async def test_case_and_mycases_commands(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "电梯坏了，电话13912345678"))
    await core.services.handle_press(ev.press(STAFF_CHAT, VOLUNTEER, "c1:claim:1"))
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "case", "1"))
    public = (await outbox(core))[-1].text
    assert "#1 · 报修 · 3栋" in public and "接单" in public and "13912345678" not in public
    await core.services.handle_command(ev.command(STAFF_CHAT, VOLUNTEER, "case", "#1"))
    staff_view = (await outbox(core))[-1].text
    assert "13912345678" in staff_view and "张大爷" in staff_view
    await core.services.handle_command(ev.command(STAFF_CHAT, VOLUNTEER, "mycases"))
    assert "我在办的（1）" in (await outbox(core))[-1].text
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "case", "99"))
    assert "没有编号为 #99" in (await outbox(core))[-1].text
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "case", "abc"))
    assert "用法：/case" in (await outbox(core))[-1].text


async def test_grant_and_revoke(core: Core, ev: Events) -> None:
    s = core.services
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "grant", "wizard", reply_to=VOLUNTEER))
    assert "用法" in (await outbox(core))[-1].text
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "grant", "volunteer"))
    assert "用法" in (await outbox(core))[-1].text
    await s.handle_command(ev.command(STAFF_CHAT, RESIDENT, "grant", "admin", reply_to=RESIDENT))
    assert "只有社区管理员" in (await outbox(core))[-1].text
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "grant", "volunteer", reply_to=VOLUNTEER))
    assert (await outbox(core))[-1].text == "已将 李明 设为值班志愿者。"
    await s.handle_command(ev.command(STAFF_CHAT, VOLUNTEER, "whoami"))
    assert "值班志愿者" in (await outbox(core))[-1].text
    await s.handle_command(ev.command(STAFF_CHAT, ADMIN, "revoke", "", reply_to=VOLUNTEER))
    assert "已取消 李明 的 1 个角色" in (await outbox(core))[-1].text


async def test_urgent_message_is_marked_and_never_asked(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "楼道着火了！"))
    (case,) = await cases(core)
    assert case.urgent and case.category == "safety"
    assert (case.due_at - case.created_at).total_seconds() == 15 * 60
    card = next(r for r in await outbox(core) if r.ref == "case:1:card")
    assert card.text.startswith("🚨紧急")


async def test_status_help_and_unknown_command(core: Core, ev: Events) -> None:
    await setup_community(core, ev)
    await core.services.handle_command(ev.command(BUILDING_CHAT, ADMIN, "status"))
    status = (await outbox(core))[-1].text
    assert "本群：3栋 楼栋群" in status and "待发消息" in status
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "help"))
    assert "/case" in (await outbox(core))[-1].text
    count = len(await outbox(core))
    await core.services.handle_command(ev.command(BUILDING_CHAT, RESIDENT, "weather"))
    assert len(await outbox(core)) == count  # unknown commands in groups may be another bot's


async def test_a_flood_of_messages_gets_one_notice_and_no_pile_of_cases(core: Core, ev: Events, clock) -> None:
    await setup_community(core, ev)
    before = len(await outbox(core))
    for i in range(100):
        await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, f"电梯坏了 第{i}遍"))
        clock.advance(seconds=0.5)
    assert len(await cases(core)) == 1  # the repeats within the limit joined the first case
    notices = [r for r in (await outbox(core))[before:] if "消息发得太快" in r.text]
    assert len(notices) == 1 and notices[0].chat_id == BUILDING_CHAT.chat_id
    answered = len(await outbox(core)) - before
    assert answered <= 14  # card, dispatch, at most 11 duplicate notes and the one notice
    clock.advance(minutes=2)  # the next minute the person is heard again
    await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "路灯坏了"))
    assert len(await cases(core)) == 2
    # A neighbour is not affected by someone else's flood.
    await core.services.handle_message(ev.message(BUILDING_CHAT, NEIGHBOUR, "着火了"))
    assert len(await cases(core)) == 3


async def test_group_that_adds_the_bot_unbound_gets_one_explanation_and_no_case_handling(core: Core, ev: Events) -> None:
    from bot.core.events import BotMembershipChanged, ChatRef

    group = ChatRef(-5005, "supergroup", "新来的群")
    await core.services.handle_membership(BotMembershipChanged(7001, group, "member", RESIDENT))
    await core.services.handle_membership(BotMembershipChanged(7002, group, "administrator", RESIDENT))
    said = [r for r in await outbox(core) if r.chat_id == group.chat_id]
    assert len(said) == 1 and "/bind 楼栋名" in said[0].text
    await core.services.handle_message(ev.message(group, RESIDENT, "电梯坏了"))
    assert await cases(core) == [] and len([r for r in await outbox(core) if r.chat_id == group.chat_id]) == 1
