"""Audiences of broadcasts and activities: the whole community, some grids, some buildings, or staff.

An audience is written as words separated by spaces or commas: ``全体`` (every building group),
``工作人员`` (the staff groups), building names (``3栋``) and grid names (``一网格``). It resolves to the
active bound groups it names, at the moment it is resolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.errors import BadInput
from bot.core.model import Chat, ChatKind, Community
from bot.core.ports import UnitOfWork

EVERYONE = frozenset({"全体", "全社区", "全部", "所有", "所有人", "all", "everyone"})
STAFF = frozenset({"工作人员", "员工", "值班", "值班群", "staff"})
_SPLIT = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True, slots=True)
class Audience:
    """A resolved audience: its words as written and the groups it reaches (chat ids, ascending)."""

    label: str
    chats: list[Chat]

    @property
    def chat_ids(self) -> list[int]:
        """The Telegram ids of the groups."""
        return [chat.chat_id for chat in self.chats]


async def resolve_audience(uow: UnitOfWork, community: Community, text: str) -> Audience:
    """The groups an audience names; raises BadInput for an unknown word or when it reaches no group."""
    words = [word for word in _SPLIT.split(text.strip()) if word]
    if not words:
        raise BadInput("broadcast.no_audience")
    buildings = await uow.buildings.list(community.id)
    by_name = {building.name: building for building in buildings}
    groups = await uow.chats.of_kind(community.id, ChatKind.BUILDING)
    picked: dict[int, Chat] = {}
    for word in words:
        lowered = word.lower()
        if lowered in EVERYONE:
            picked.update({chat.chat_id: chat for chat in groups})
        elif lowered in STAFF:
            picked.update({chat.chat_id: chat for chat in await uow.chats.of_kind(community.id, ChatKind.STAFF)})
        elif word in by_name:
            building_id = by_name[word].id
            picked.update({chat.chat_id: chat for chat in groups if chat.building_id == building_id})
        else:
            grid_id = await uow.duty.grid_id(community.id, word)
            if grid_id is None:
                raise BadInput("broadcast.unknown_audience", word=word[:20])
            in_grid = {building.id for building in buildings if building.grid_id == grid_id}
            picked.update({chat.chat_id: chat for chat in groups if chat.building_id in in_grid})
    if not picked:
        raise BadInput("broadcast.empty_audience", audience=" ".join(words)[:60])
    return Audience(" ".join(words), [picked[chat_id] for chat_id in sorted(picked)])


def chat_names(chats: list[Chat], limit: int = 8) -> str:
    """Group titles for a preview: the first ``limit``, then how many more."""
    names = sorted(chat.title or str(chat.chat_id) for chat in chats)[:limit]
    text = "、".join(names)
    if len(chats) > limit:
        text += f" … (+{len(chats) - limit})"
    return text
