"""``residents-bot forget USER_ID``: erase a person's personal data; their cases stay, anonymised."""

from __future__ import annotations

from typing import Any

from bot.core.ports import UnitOfWork
from bot.core.privacy import mask_text


async def forget_person(uow: UnitOfWork, user_id: int, placeholder: str) -> Any:
    """Erase one person's names, phone, handle, raw messages and dialogues inside the caller's transaction.

    Their cases are kept for the community's records: the reporter becomes ``placeholder``, and phone,
    ID, room and plate numbers and the person's names are masked in the texts they wrote. Returns the
    number of rows touched per kind (a ``ForgetReport``).
    """
    names = await uow.personal.names_of(user_id)
    masked = {
        case_id: masked_text
        for case_id, text in await uow.personal.case_texts(user_id)
        if (masked_text := mask_text(text, names)) != text
    }
    return await uow.personal.forget(user_id, placeholder, masked, names, lambda text: mask_text(text, names))
