"""Volunteer points (积分): earned by attendance (rules in the community YAML), spent at the 积分超市.

``/points`` shows a member's balance and latest entries (``/points 公开`` / ``/points 不公开`` agree or
stop agreeing to be named on the leaderboard); ``/leaderboard`` shows this month's top volunteers,
naming only those who agreed; ``/redeem <user id> <points> <reason>`` (admins, or as a reply to the
member's message) records a redemption, refused when the balance is short.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.activities import PointEntry
from bot.core.errors import BadInput, PermissionDenied
from bot.core.events import Command
from bot.core.model import Chat, Member
from bot.core.ports import UnitOfWork
from bot.core.roles import Role
from bot.services.feature import CommandHandler, Feature, Sweep

AGREE = frozenset({"公开", "同意", "agree", "yes"})
DISAGREE = frozenset({"不公开", "匿名", "撤回", "disagree", "no"})


class PointsService(Feature):
    """/points, /leaderboard and /redeem; ``award`` is how other features credit points."""

    def commands(self) -> dict[str, CommandHandler]:
        """``/points``, ``/leaderboard``, ``/redeem``."""
        return {"points": self.show, "leaderboard": self.leaderboard, "redeem": self.redeem}

    def sweeps(self) -> dict[str, tuple[Sweep, int]]:
        """Credit volunteers for the cases they resolved."""
        return {"points_for_cases": (self.credit_cases, 300)}

    async def credit_cases(self, lock: bool = False) -> int:
        """Points for each case resolved in the last week by a volunteer (once per case, by the rules)."""
        since = self.deps.clock.now() - timedelta(days=7)
        credited = 0
        async with self.deps.uow() as uow:
            for case_id, number, category, user_id, name in await uow.points.resolved_since(since):
                member = await uow.members.get(user_id)
                if member is None or not member.has_role(Role.VOLUNTEER):
                    continue
                points = self.deps.rules.points.for_case(category)
                reason = self.t("points.reason_case", number=number, category=self.category_name(category))
                if await self.award(uow, user_id, name, points, "case", reason, f"case:{case_id}"):
                    credited += 1
            await uow.commit()
        return credited

    async def award(
        self, uow: UnitOfWork, user_id: int, name: str, points: int, kind: str, reason: str, source: str
    ) -> bool:
        """Credit points once per ``source`` (a repeated check-in earns nothing); True when credited."""
        if points <= 0:
            return False
        community = await self.community(uow)
        return await uow.points.add(
            PointEntry(community.id, user_id, name, points, kind, reason, self.deps.clock.now(), source)
        )

    async def show(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        """A member's balance and latest entries; ``公开``/``不公开`` set leaderboard consent."""
        word = cmd.args.strip().lower()
        if word in AGREE or word in DISAGREE:
            await uow.points.set_consent(member.user_id, word in AGREE, self.deps.clock.now())
            return self.t("points.consent_on" if word in AGREE else "points.consent_off")
        balance = await uow.points.balance(member.user_id)
        lines = [self.t("points.balance", name=member.name, balance=balance)]
        history = await uow.points.history(member.user_id)
        if not history:
            lines.append(self.t("points.empty"))
        for entry in history:
            lines.append(
                self.t("points.line", date=entry.at.astimezone(self.tz).strftime("%m-%d"), delta=f"{entry.delta:+d}",
                       reason=entry.reason)
            )
        lines.append(self.t("points.hint"))
        return "\n".join(lines)

    async def leaderboard(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        """This month's top volunteers (community time), named only with their consent."""
        start, end = self.month_of(self.deps.clock.now())
        community = await self.community(uow)
        rows = await uow.points.leaderboard(community.id, start, end)
        if not rows:
            return self.t("points.board_empty")
        lines = [self.t("points.board_title", month=start.astimezone(self.tz).month)]
        for rank, (_uid, name, points, named) in enumerate(rows, start=1):
            lines.append(
                self.t("points.board_line", rank=rank, name=name if named else self.t("points.anonymous"), points=points)
            )
        return "\n".join(lines)

    def month_of(self, moment: datetime) -> tuple[datetime, datetime]:
        """[first moment of the month, first moment of the next) in the community's time zone."""
        local = moment.astimezone(self.tz)
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        return start, end

    async def redeem(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        """``/redeem <user id> <points> <reason>`` or, replying to the member, ``/redeem <points> <reason>``."""
        if not self.is_admin(member):
            raise PermissionDenied("points.not_admin")
        words = cmd.args.split(maxsplit=2)
        author = cmd.reply_to_author
        if author is not None:
            target_id, target_name, rest = author.user_id, author.name, words
        elif len(words) >= 1 and words[0].isascii() and words[0].isdigit():
            target = await uow.members.get(int(words[0]))
            if target is None:
                raise BadInput("points.unknown_member", value=words[0][:20])
            target_id, target_name, rest = target.user_id, target.name, words[1:]
        else:
            raise BadInput("points.redeem_usage")
        if not rest or not rest[0].isascii() or not rest[0].isdigit() or int(rest[0]) <= 0:
            raise BadInput("points.redeem_usage")
        points = int(rest[0])
        reason = " ".join(rest[1:]).strip()
        if not reason:
            raise BadInput("points.need_reason")
        balance = await uow.points.balance(target_id)
        if points > balance:
            raise BadInput("points.short", name=target_name, balance=balance, points=points)
        community = await self.community(uow)
        await uow.points.add(
            PointEntry(community.id, target_id, target_name, -points, "redeem", reason, self.deps.clock.now(),
                       by_user_id=member.user_id)
        )
        return self.t("points.redeemed", name=target_name, points=points, reason=reason, balance=balance - points)
