"""Roster and rota files an admin sends the bot in a private chat: checked, downloaded, imported, reported.

The same import as ``residents-bot import-roster|import-rota`` (bot/services/roster.py): a file with a
date column is a rota, any other a roster. A file with bad rows imports nothing and every bad row is
reported with its line number; sent again with the caption 「跳过错误」 the good rows are imported.
Importing the same file twice changes nothing.

The download is a network call, so it happens outside any transaction: a quick read-only check of
the sender's role first (strangers' files are never fetched), then the download, then one transaction
that claims the update, checks the role again, imports and answers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.core.errors import BadInput, DomainError, PermissionDenied
from bot.core.events import IncomingMessage
from bot.core.ports import UnitOfWork
from bot.services.base import Deps, Service
from bot.services.roster import (
    ROSTER_HEADERS,
    ROTA_HEADERS,
    ImportFileError,
    Release,
    RosterImport,
    is_rota,
    parse_table,
)

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
MAX_BYTES = 2 * 1024 * 1024
SKIP_WORDS = ("跳过错误", "跳過錯誤", "skip errors", "--skip-errors")


class RosterUpload(Service):
    """Imports a roster or rota file sent by an admin in a private chat."""

    def __init__(self, deps: Deps, release: Release | None = None) -> None:
        super().__init__(deps)
        self.release = release

    @staticmethod
    def accepts(event: IncomingMessage) -> bool:
        """True for a table file (CSV/XLSX) sent in a private chat."""
        name = (event.file_name or "").lower()
        return event.chat.is_private and event.file_id is not None and name.endswith(TABLE_SUFFIXES)

    async def take(self, event: IncomingMessage) -> None:
        """Check, download and import the file, then answer the admin with the import report."""

        async def refused(uow: UnitOfWork, refusal: DomainError) -> None:
            await self.queue(uow, event.chat.chat_id, self.refusal_text(refusal), reply_to=event.message_id)

        async def answer(key: str, **params: object) -> None:
            async def work(uow: UnitOfWork) -> None:
                raise BadInput(key, **params)

            await self.in_transaction(event.update_id, work, refused)

        if not await self._is_admin(event.actor.user_id):
            await answer("import.chat_admin_only")
            return
        if (event.file_size or 0) > MAX_BYTES:
            await answer("import.chat_too_big", limit=MAX_BYTES // (1024 * 1024))
            return
        download = self.deps.download
        if download is None:
            await answer("import.chat_download_failed")
            return
        try:
            data = await download(event.file_id or "")
        except Exception as err:
            log.warning("download of an uploaded table failed: %s", type(err).__name__)
            await answer("import.chat_download_failed")
            return
        name = Path(event.file_name or "table.csv").name
        skip = any(word in event.text.lower() for word in SKIP_WORDS)

        async def work(uow: UnitOfWork) -> None:
            member = await self.member_of(uow, event.actor)
            if not self.is_admin(member):
                raise PermissionDenied("import.chat_admin_only")
            try:
                rota = is_rota(data, name)
                rows = parse_table(data, name, ROTA_HEADERS if rota else ROSTER_HEADERS)
            except ImportFileError as err:
                raise BadInput(err.key, **err.params) from None
            importer = RosterImport(self.deps, self.release, member)
            run = importer.import_rota if rota else importer.import_roster
            report = await run(uow, rows, skip_errors=skip)
            if not report.imported:  # roll back whatever validation created, and say why
                raise BadInput("import.chat_refused", report=importer.describe(report).rsplit("\n", 1)[0])
            kind = self.t("import.kind_rota" if rota else "import.kind_roster")
            text = self.t("import.chat_done", kind=kind, name=name) + "\n" + importer.describe(report)
            await self.queue(uow, event.chat.chat_id, text, reply_to=event.message_id)

        await self.in_transaction(event.update_id, work, refused)

    async def _is_admin(self, user_id: int) -> bool:
        async with self.deps.uow() as uow:
            member = await uow.members.get(user_id)
        return user_id in self.deps.admin_ids or (member is not None and self.is_admin(member))
