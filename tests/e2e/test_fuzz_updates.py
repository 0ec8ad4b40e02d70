"""Generated bad input (hypothesis): random and malformed updates through both real adapters into the services.

Huge texts, odd Unicode, missing fields, wrong types, unknown update kinds, forged button data from
people without a role, and replays. Properties: nothing our code does raises (only the framework's own
parser may refuse a malformed update, which the inbox worker then parks); a button never opens a case
and forged data never changes one; a replayed update changes nothing.

The simulator, the core and both adapters live on one event loop in a background thread, because
hypothesis drives plain (synchronous) test functions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import traceback
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from bot.bootstrap import Core, build_adapter, build_core
from simulator.testing import running_simulator
from storage.models import CaseRow, OutboxRow
from tests.conftest import ADMIN, BUILDING_CHAT, RESIDENT, VOLUNTEER, Events
from tests.e2e.conftest import bot_settings
from tests.services.test_case_flow import setup_community

T = TypeVar("T")
BUILDING_ID, STAFF_ID = -1003, -2001  # tests.conftest's BUILDING_CHAT and STAFF_CHAT
ACTIONS = ["claim", "resolve", "explain", "rate", "ask", "plus", "pass", "passto", "drop", "wall", "signup"]
#: Where a refusal may legitimately come from: the frameworks' own parsers of a malformed update.
PARSER_MODULES = ("/pydantic", "/telegram/", "/aiogram/types/", "/aiogram/methods/")


@dataclass
class Harness:
    """A background event loop running the simulator, a core with one open case, and both adapters."""

    loop: asyncio.AbstractEventLoop
    core: Core
    adapters: dict[str, Any]
    ids: Iterator[int]

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the harness's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def snapshot(self) -> tuple[list[tuple[Any, ...]], int, int]:
        """(cases with their state, outbox rows, supporters) as they stand."""
        async with self.core.uow() as uow:
            assert uow.session is not None
            cases = (await uow.session.execute(
                select(CaseRow.id, CaseRow.status, CaseRow.assignee_id, CaseRow.offered_to_id, CaseRow.rating)
                .order_by(CaseRow.id)
            )).all()
            outbox = await uow.session.scalar(select(func.count()).select_from(OutboxRow))
            supporters = await uow.session.scalar(text("SELECT count(*) FROM case_supporters"))
        return [tuple(c) for c in cases], int(outbox or 0), int(supporters or 0)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """Start everything once for the module (hypothesis runs many examples against it)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzz-loop", daemon=True)
    thread.start()
    db = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.db"
    state: dict[str, Any] = {}

    async def start() -> Harness:
        context = running_simulator()
        sim, _client = await context.__aenter__()
        state["context"] = context
        core = await build_core(bot_settings(sim.url, db))
        ev = Events()
        await setup_community(core, ev)
        await core.services.handle_message(ev.message(BUILDING_CHAT, RESIDENT, "3栋2单元电梯坏了，老人下不了楼"))
        adapters = {}
        for framework in ("aiogram", "ptb"):
            adapter = build_adapter(bot_settings(sim.url, db, bot_framework=framework), core.services)
            await adapter.start({})
            adapters[framework] = adapter
        return Harness(loop, core, adapters, itertools.count(20_000))

    h = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
    yield h

    async def stop() -> None:
        for adapter in h.adapters.values():
            await adapter.close()
        await h.core.engine.dispose()
        await state["context"].__aexit__(None, None, None)

    h.run(stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


# ---- strategies ----------------------------------------------------------------------------------

odd_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=4000, max_size=5000),
    st.sampled_from(["电梯坏了", "3栋电梯坏了", "/case 1", "/grant admin", "/bind 9栋", "/export 2026-13",
                     "\u202e\u200b电梯\u0000坏了", "🆘" * 50, "/start b1", "/cancel", "谢谢", ""]),
)
stranger = st.fixed_dictionaries(
    {"id": st.integers(min_value=100_000, max_value=2**40), "is_bot": st.booleans(),
     "first_name": st.text(max_size=20)},
    optional={"username": st.text(max_size=40)},
)
chat = st.one_of(
    st.sampled_from([{"id": BUILDING_ID, "type": "supergroup", "title": "3栋业主群"},
                     {"id": STAFF_ID, "type": "supergroup", "title": "值班群"}]),
    st.builds(lambda i: {"id": i, "type": "private", "first_name": "x"}, st.integers(100_000, 2**40)),
    st.fixed_dictionaries({"id": st.integers(-(2**52), 2**52), "type": st.text(max_size=12)}),
)
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def message(draw: st.DrawFn) -> dict[str, Any]:
    """A message, sometimes missing fields or with wrong types."""
    body: dict[str, Any] = {"message_id": draw(st.integers(1, 2**31)), "date": 1_790_000_000,
                            "chat": draw(chat), "from": draw(stranger)}
    kind = draw(st.sampled_from(["text", "caption", "sticker", "none", "wrong"]))
    if kind == "text":
        body["text"] = draw(odd_text)
    elif kind == "caption":
        body["caption"] = draw(odd_text)
        body["photo"] = [{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}]
    elif kind == "sticker":
        body["sticker"] = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1,
                           "is_animated": False, "is_video": False}
    elif kind == "wrong":
        body[draw(st.sampled_from(["text", "chat", "from", "message_id", "reply_to_message"]))] = draw(junk)
    for field in draw(st.lists(st.sampled_from(["from", "chat", "date"]), max_size=1)):
        body.pop(field, None)
    return body


@st.composite
def update(draw: st.DrawFn) -> dict[str, Any]:
    """Any kind of update Telegram (or a broken proxy) might send."""
    kind = draw(st.sampled_from(["message", "edited_message", "callback_query", "my_chat_member", "unknown"]))
    if kind in ("message", "edited_message"):
        return {kind: draw(message())}
    if kind == "callback_query":
        forged = st.builds(lambda a, i, arg: f"c1:{a}:{i}" + (f":{arg}" if arg else ""),
                           st.sampled_from(ACTIONS), st.integers(0, 3), st.sampled_from(["", "good", "bad", "y", "2001"]))
        return {"callback_query": {
            "id": str(draw(st.integers(1, 2**40))), "from": draw(stranger), "chat_instance": "1",
            "data": draw(st.one_of(forged, st.text(max_size=70))),
            "message": draw(st.one_of(message(), st.just({"message_id": 1, "date": 0, "chat": {"id": STAFF_ID,
                                                                                            "type": "supergroup"}}))),
        }}
    if kind == "my_chat_member":
        return {"my_chat_member": {"chat": draw(chat), "from": draw(stranger), "date": 0,
                                   "old_chat_member": {"status": "left", "user": draw(stranger)},
                                   "new_chat_member": {"status": draw(st.sampled_from(["member", "kicked", "left",
                                                                                       "administrator"])),
                                                       "user": draw(stranger)}}}
    return {draw(st.sampled_from(["poll", "message_reaction", "chat_boost", "x"])): draw(junk)}


# ---- the property --------------------------------------------------------------------------------


_TEXT_NOT_A_STRING = {
    "message_id": 77, "date": 0, "chat": {"id": BUILDING_ID, "type": "supergroup", "title": "3栋业主群"},
    "from": {"id": 4242, "is_bot": False, "first_name": "路人"},
}


def _from_parser(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and any(marker in frames[-1].filename for marker in PARSER_MODULES)


@pytest.mark.filterwarnings("ignore:Detected unknown update type:RuntimeWarning")
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=update(), framework=st.sampled_from(["aiogram", "ptb"]), replay=st.booleans())
# Found by the search in round 16: python-telegram-bot passes a message whose text is `true` through.
@example(raw={"message": {**_TEXT_NOT_A_STRING, "text": True}}, framework="ptb", replay=False)
@example(raw={"message": {**_TEXT_NOT_A_STRING, "caption": 12, "text": None}}, framework="ptb", replay=False)
def test_random_and_malformed_updates_never_break_the_bot_or_touch_cases(
    harness: Harness, raw: dict[str, Any], framework: str, replay: bool
) -> None:
    update_id = next(harness.ids)
    payload = json.dumps({"update_id": update_id, **raw}, ensure_ascii=False)
    adapter = harness.adapters[framework]
    before = harness.run(harness.snapshot())

    async def feed() -> BaseException | None:
        try:
            await adapter.handle(update_id, payload)
        except Exception as err:  # returned, so its origin can be checked
            return err
        return None

    error = harness.run(feed())
    if error is not None:
        assert _from_parser(error), "".join(traceback.format_exception(error))
    after = harness.run(harness.snapshot())
    # Nobody here has a role: no existing case changes its state, assignee or rating.
    assert after[0][: len(before[0])] == before[0]
    if "callback_query" in raw:
        assert after[0] == before[0]  # a button never opens a case
    assert len(after[0]) <= len(before[0]) + 1
    if replay and error is None:
        harness.run(feed())
        assert harness.run(harness.snapshot()) == after  # a replayed update changes nothing


def test_the_staff_and_admin_are_not_among_the_generated_people() -> None:
    assert max(ADMIN.user_id, RESIDENT.user_id, VOLUNTEER.user_id) < 100_000
