"""Photos and files through the outbox, and files users send, with both frameworks against the simulator."""

from __future__ import annotations

from pathlib import Path

from bot.core.model import PRIORITY_LIVE, MediaKind, OutboxKind, OutgoingMessage
from bot.core.ports import FILE_PREFIX
from tests.e2e.conftest import ADMIN_ID, RESIDENT_ID, World

SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshot-demo.png"


async def _queue(w: World, message: OutgoingMessage) -> int:
    core = w.runner.core
    message.created_at = core.deps.clock.now()
    async with core.uow() as uow:
        outbox_id = await uow.outbox.add(message)
        await uow.commit()
    return outbox_id


async def test_photo_and_document_are_uploaded_and_a_caption_edited(world: World, tmp_path: Path) -> None:
    w, client = world, world.client
    export = tmp_path / "案件导出.csv"
    export.write_text("编号,类别\n1,报修\n", encoding="utf-8")
    await _queue(w, OutgoingMessage(w.staff, "周调度 · 图表", media_kind=MediaKind.PHOTO,
                                    media=FILE_PREFIX + str(SCREENSHOT), priority=PRIORITY_LIVE))
    await _queue(w, OutgoingMessage(w.staff, "导出 1 件", media_kind=MediaKind.DOCUMENT, media=FILE_PREFIX + str(export)))

    photo = await client.wait_for_bot_message(w.staff, lambda m: "photo" in m)
    assert photo["caption"] == "周调度 · 图表"
    document = await client.wait_for_bot_message(w.staff, lambda m: "document" in m)
    assert document["document"]["file_name"] == "案件导出.csv" and document["caption"] == "导出 1 件"

    # A photo already on Telegram is sent again by its file id (a resident's photo on a dispatch card).
    file_id = photo["photo"][-1]["file_id"]
    await _queue(w, OutgoingMessage(w.staff, "现场照片", media_kind=MediaKind.PHOTO, media=file_id))
    again = await client.wait_for_bot_message(w.staff, lambda m: m.get("caption") == "现场照片")
    assert again["photo"][-1]["file_size"] == photo["photo"][-1]["file_size"]

    # A live count on a photo post is kept up to date by editing its caption.
    chart = await _queue(w, OutgoingMessage(w.staff, "报名 0/30", media_kind=MediaKind.PHOTO, media=file_id))
    await _queue(w, OutgoingMessage(w.staff, "报名 1/30", kind=OutboxKind.EDIT, edit_of=chart, media_kind=MediaKind.PHOTO))
    posted = await client.wait_for_bot_message(w.staff, lambda m: m.get("caption") == "报名 0/30")
    await client.wait_for_edit(w.staff, posted["message_id"], lambda m: m.get("caption") == "报名 1/30")


async def test_admin_sends_a_roster_file_and_it_is_downloaded_and_imported(world: World) -> None:
    w, client = world, world.client
    await client.send_message(ADMIN_ID, ADMIN_ID, "/start")
    body = "姓名,电话,角色,范围,telegram_id\n王五,13900000001,志愿者,3栋,\n"
    sent = await client.send_message(
        ADMIN_ID, ADMIN_ID, document={"file_name": "名单.csv", "mime_type": "text/csv", "data": body}
    )
    assert await w.runner.adapter.messenger.download(sent["document"]["file_id"]) == body.encode()
    report = await w.reply_of(ADMIN_ID, sent, within=10)
    assert report["text"].startswith("已收到名册《名单.csv》") and "新增 1" in report["text"]
    assert "邀请码 王五" in report["text"]
    photo = await client.send_message(w.building, RESIDENT_ID, photo=True, caption="楼道堆满了杂物")
    downloaded = await w.runner.adapter.messenger.download(photo["photo"][-1]["file_id"])
    assert downloaded[:4] == b"\x89PNG" or downloaded[:2] == b"\xff\xd8"
