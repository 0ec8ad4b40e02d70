"""Administration use cases: binding chats, granting roles, help, whoami, status, membership changes."""

from __future__ import annotations

import unicodedata

from bot.core.errors import BadInput, PermissionDenied
from bot.core.events import BotMembershipChanged, Command
from bot.core.model import Chat, ChatKind, Member, RoleGrant
from bot.core.ports import UnitOfWork
from bot.core.roles import GRANTABLE_ROLES, Role, ScopeKind, parse_role
from bot.services.base import Service

BUILDING_NAME_LIMIT = 20

#: What admins may type after /bind for the special chats, besides a building name.
SPECIAL_BINDINGS = {
    "staff": ChatKind.STAFF,
    "duty": ChatKind.STAFF,
    "值班": ChatKind.STAFF,
    "值班群": ChatKind.STAFF,
    "admin": ChatKind.ADMIN,
    "管理": ChatKind.ADMIN,
    "管理群": ChatKind.ADMIN,
}

#: Chinese names of roles accepted by /grant and /revoke.
ROLE_ALIASES = {
    "楼栋长": Role.BUILDING_HEAD,
    "楼长": Role.BUILDING_HEAD,
    "网格员": Role.GRID_WORKER,
    "志愿者": Role.VOLUNTEER,
    "党员": Role.VOLUNTEER,
    "值班": Role.VOLUNTEER,
    "物业": Role.PROPERTY,
    "管理员": Role.ADMIN,
}


def role_from_text(text: str) -> Role | None:
    """A role named by its code or its Chinese name."""
    word = text.strip()
    return ROLE_ALIASES.get(word) or parse_role(word)


class AdminService(Service):
    """Set-up and information commands."""

    def _require_admin(self, member: Member) -> None:
        if not self.is_admin(member):
            raise PermissionDenied("error.admin_only")

    async def bind(self, uow: UnitOfWork, member: Member, chat: Chat, command: Command) -> str:
        """/bind 3栋 | staff | admin: bind a group to a building or mark it as the staff/admin group."""
        self._require_admin(member)
        if chat.kind == ChatKind.PRIVATE:
            raise BadInput("error.group_only")
        arg = unicodedata.normalize("NFKC", command.args).strip()
        if not arg:
            raise BadInput("bind.usage")
        special = SPECIAL_BINDINGS.get(arg.lower())
        if special is not None:
            chat.kind, chat.building_id, chat.active = special, None, True
            await uow.chats.save(chat)
            reply = self.t("bind.staff" if special == ChatKind.STAFF else "bind.admin")
        else:
            if len(arg) > BUILDING_NAME_LIMIT or any(unicodedata.category(c)[0] == "C" for c in arg):
                raise BadInput("bind.bad_name", limit=BUILDING_NAME_LIMIT)
            building = await uow.buildings.get_or_create(chat.community_id, arg)
            chat.kind, chat.building_id, chat.active = ChatKind.BUILDING, building.id, True
            await uow.chats.save(chat)
            reply = self.t("bind.building", building=building.name)
        if not self.deps.profile.can_read_all_group_messages:
            reply += "\n" + self.t("bind.privacy_warning")
        return reply

    async def unbind(self, uow: UnitOfWork, member: Member, chat: Chat) -> str:
        """/unbind: the group stops being a building or staff group (its cases stay)."""
        self._require_admin(member)
        chat.kind, chat.building_id = ChatKind.UNBOUND, None
        await uow.chats.save(chat)
        return self.t("bind.unbound")

    async def _target(self, uow: UnitOfWork, command: Command) -> Member:
        author = command.reply_to_author
        if author is None or author.is_bot:
            raise BadInput("grant.usage")
        return await uow.members.seen(author.user_id, author.name or str(author.user_id), author.username)

    async def grant(self, uow: UnitOfWork, member: Member, chat: Chat, command: Command) -> str:
        """/grant ROLE as a reply to a member's message: give that member the role."""
        self._require_admin(member)
        role = role_from_text(command.args)
        if role is None or role not in GRANTABLE_ROLES:
            raise BadInput("grant.usage")
        target = await self._target(uow, command)
        if role == Role.BUILDING_HEAD and chat.kind == ChatKind.BUILDING and chat.building_id:
            grant = RoleGrant(role, ScopeKind.BUILDING, chat.building_id)
        else:
            grant = RoleGrant(role)
        added = await uow.members.grant(target.user_id, grant)
        key = "grant.done" if added else "grant.already"
        return self.t(key, name=target.name, role=self.role_name(role))

    async def revoke(self, uow: UnitOfWork, member: Member, command: Command) -> str:
        """/revoke [ROLE] as a reply: take that role (or all roles) back."""
        self._require_admin(member)
        role = role_from_text(command.args) if command.args.strip() else None
        if command.args.strip() and role is None:
            raise BadInput("revoke.usage")
        target = await self._target(uow, command)
        removed = await uow.members.revoke(target.user_id, role)
        if not removed:
            return self.t("revoke.nothing", name=target.name)
        return self.t("revoke.done", name=target.name, count=removed)

    def help(self, member: Member, chat: Chat) -> str:
        """/help: what the bot does and the commands for this person."""
        parts = [self.t("help.intro")]
        parts.append(self.t("help.private") if chat.kind == ChatKind.PRIVATE else self.t("help.group"))
        if member.is_staff or self.is_admin(member):
            parts.append(self.t("help.staff"))
        if self.is_admin(member):
            parts.append(self.t("help.admin"))
        return "\n\n".join(parts)

    async def whoami(self, uow: UnitOfWork, member: Member) -> str:
        """/whoami: the member's id, name, roles and whether the bot can message them."""
        roles = []
        for grant in member.roles:
            scope = ""
            if grant.scope_kind == ScopeKind.BUILDING and grant.scope_id:
                building = await uow.buildings.get(grant.scope_id)
                scope = f"（{building.name}）" if building else ""
            roles.append(self.role_name(grant.role) + scope)
        if member.user_id in self.deps.admin_ids and not member.has_role(Role.ADMIN):
            roles.append(self.role_name(Role.ADMIN) + self.t("whoami.from_settings"))
        return self.t(
            "whoami.text",
            name=member.name,
            user_id=member.user_id,
            roles="、".join(roles) if roles else self.role_name(Role.RESIDENT),
            private=self.t("whoami.private_ok" if member.can_message_privately else "whoami.private_missing"),
        )

    async def status(self, uow: UnitOfWork, member: Member, chat: Chat) -> str:
        """/status: what this chat is bound to, open cases, and (for admins) the queues' health."""
        community = await uow.communities.default()
        if chat.kind == ChatKind.BUILDING and chat.building_id:
            building = await uow.buildings.get(chat.building_id)
            binding = self.t("status.bound_building", building=building.name if building else "?")
        else:
            binding = self.t(f"status.bound_{chat.kind.value}")
        lines = [
            self.t("status.head", community=community.name),
            binding,
            self.t("status.open_cases", count=await uow.cases.count_active(community.id)),
        ]
        if not self.deps.profile.can_read_all_group_messages and chat.kind != ChatKind.PRIVATE:
            lines.append(self.t("bind.privacy_warning"))
        if self.is_admin(member):
            backlog, oldest = await uow.outbox.backlog()
            inbox = await uow.inbox.counts()
            age = self.deps.texts.duration((self.deps.clock.now() - oldest).total_seconds()) if oldest else "-"
            lines.append(self.t("status.queues", outbox=backlog, oldest=age, inbox=inbox["backlog"], dead=inbox["dead"]))
            staff = await uow.chats.of_kind(community.id, ChatKind.STAFF)
            if not staff:
                lines.append(self.t("status.no_staff_group"))
        return "\n".join(lines)

    async def membership_changed(self, uow: UnitOfWork, event: BotMembershipChanged) -> None:
        """The bot was added, promoted or removed: keep the chat (and its cases), mark it (in)active."""
        community = await uow.communities.default()
        chat = await self.chat_of(uow, event.chat, community)
        chat.active = event.status in ("member", "administrator", "creator", "restricted")
        await uow.chats.save(chat)
        if chat.kind == ChatKind.PRIVATE and event.chat.chat_id > 0:
            await uow.members.set_private_chat(event.chat.chat_id, chat.active)
