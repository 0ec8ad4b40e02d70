"""Administration use cases: binding chats, granting roles, help, whoami, status, membership changes."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable

from bot.config import load_rules
from bot.core.classification import Classifier
from bot.core.errors import BadInput, PermissionDenied
from bot.core.events import BotMembershipChanged, Command
from bot.core.model import Chat, ChatKind, Member, RoleGrant
from bot.core.ports import UnitOfWork
from bot.core.roles import GRANTABLE_ROLES, Role, ScopeKind, parse_role
from bot.services.base import Service

log = logging.getLogger(__name__)

BUILDING_NAME_LIMIT = 20
KEYWORD_LIMIT = 20
MAX_KEYWORD_WEIGHT = 10.0

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

    async def revoke(
        self,
        uow: UnitOfWork,
        member: Member,
        command: Command,
        release: Callable[[UnitOfWork, Member, Member], Awaitable[list[int]]] | None = None,
    ) -> str:
        """/revoke [ROLE] as a reply: take that role (or all roles) back; a person left without a staff
        role hands their active cases back to the queue (``release``), and the admin is told which."""
        self._require_admin(member)
        role = role_from_text(command.args) if command.args.strip() else None
        if command.args.strip() and role is None:
            raise BadInput("revoke.usage")
        target = await self._target(uow, command)
        removed = await uow.members.revoke(target.user_id, role)
        if not removed:
            return self.t("revoke.nothing", name=target.name)
        reply = self.t("revoke.done", name=target.name, count=removed)
        remaining = await uow.members.get(target.user_id)
        if release is not None and remaining is not None and not remaining.is_staff:
            numbers = await release(uow, remaining, member)
            if numbers:
                reply += "\n" + self.t("revoke.released", numbers="、".join(f"#{n}" for n in numbers))
        return reply

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
            silent = await uow.duty.staff_without_private_chat()
            if silent:
                lines.append(self.t("status.must_press_start", names="、".join(m.name for m in silent)))
            now = self.deps.clock.now()
            for name, (at, detail) in (await uow.heartbeats.all()).items():
                lines.append(
                    self.t(
                        "status.instance",
                        name=name,
                        age=self.deps.texts.duration((now - at).total_seconds()),
                        poll=detail.get("poll_age", "-"),
                        flood=detail.get("retry_after", 0),
                        leader=self.t("status.leader") if detail.get("leader") else "",
                    )
                )
        return "\n".join(lines)

    def _category_code(self, word: str) -> str | None:
        """A category code named by its code or its display name (any shipped locale)."""
        classifier = self.deps.classifier
        for code in classifier.codes:
            names = {code, *(classifier.category_name(code, loc) for loc in ("zh-Hans", "zh-Hant", "en"))}
            if word in names or word.lower() in {n.lower() for n in names}:
                return code
        return None

    async def keyword(self, uow: UnitOfWork, member: Member, command: Command) -> str:
        """/keyword add 报修 水压低 [权重] | /keyword del 报修 水压低: change the dictionary at once."""
        self._require_admin(member)
        parts = unicodedata.normalize("NFKC", command.args).split()
        if len(parts) not in (3, 4) or parts[0] not in ("add", "del", "添加", "删除"):
            raise BadInput("keyword.usage")
        adding = parts[0] in ("add", "添加")
        code = self._category_code(parts[1])
        if code is None:
            raise BadInput("keyword.unknown_category", name=parts[1][:20])
        word = parts[2]
        if not 1 <= len(word) <= KEYWORD_LIMIT or not any(ch.isalnum() for ch in word):
            raise BadInput("keyword.bad_word", limit=KEYWORD_LIMIT)
        weight: float | None = None
        if adding:
            try:
                weight = float(parts[3]) if len(parts) == 4 else 1.0
            except ValueError:
                raise BadInput("keyword.bad_weight") from None
            if not 0 < weight <= MAX_KEYWORD_WEIGHT:
                raise BadInput("keyword.bad_weight")
        elif word not in self._keywords_of(code):
            raise BadInput("keyword.not_there", word=word, category=self.category_name(code))
        try:
            changed = (
                self.deps.classifier.with_keywords(code, add={word: weight or 1.0})
                if adding
                else self.deps.classifier.with_keywords(code, remove=(word,))
            )
        except ValueError as err:
            log.warning("keyword change refused: %s", err)
            raise BadInput("keyword.invalid") from None
        await uow.keywords.record(code, word, weight, member.user_id, self.deps.clock.now())
        self.deps.classifier = changed
        log.info("keyword %s %r in %s (weight %s) by user %s", "added" if adding else "removed", word, code, weight, member.user_id)
        key = "keyword.added" if adding else "keyword.removed"
        return self.t(key, word=word, category=self.category_name(code))

    def _keywords_of(self, code: str) -> set[str]:
        taxonomy = getattr(self.deps.classifier, "taxonomy", None)
        category = taxonomy.category(code) if taxonomy is not None else None
        return set(category.keywords) if category is not None else set()

    async def reload(self, uow: UnitOfWork, member: Member) -> str:
        """/reload: re-read the community rules file and rebuild the classifier, or say what is wrong."""
        self._require_admin(member)
        if self.deps.classifier_factory is None:
            raise BadInput("reload.unavailable")
        try:
            rules = load_rules(self.deps.rules_path)
            classifier = self.deps.classifier_factory(rules)
            classifier = await replay_keyword_changes(uow, classifier)
        except ValueError as err:
            log.warning("reload refused: %s", err)
            raise BadInput("reload.invalid", reason=str(err)[:300]) from None
        self.deps.rules, self.deps.classifier = rules, classifier
        log.info("rules reloaded by user %s", member.user_id)
        return self.t("reload.done", count=len(classifier.codes))

    async def membership_changed(self, uow: UnitOfWork, event: BotMembershipChanged) -> None:
        """The bot was added, promoted or removed: keep the chat (and its cases), mark it (in)active."""
        community = await uow.communities.default()
        known = await uow.chats.get(event.chat.chat_id)
        was_active = known is not None and known.active
        chat = await self.chat_of(uow, event.chat, community)
        chat.active = event.status in ("member", "administrator", "creator", "restricted")
        await uow.chats.save(chat)
        if chat.active and not was_active and chat.kind == ChatKind.UNBOUND:
            # Added to a group nobody has bound yet: say what it takes, and handle no requests meanwhile.
            await self.queue(uow, chat.chat_id, self.t("bind.added_unbound"))
        if chat.kind == ChatKind.PRIVATE and event.chat.chat_id > 0:
            await uow.members.set_private_chat(event.chat.chat_id, chat.active)


async def replay_keyword_changes(uow: UnitOfWork, classifier: Classifier) -> Classifier:
    """Apply the admins' recorded keyword changes, in order, over a freshly built classifier."""
    for code, word, weight in await uow.keywords.changes():
        if code not in classifier.codes:
            continue
        if weight is None:
            classifier = classifier.with_keywords(code, remove=(word,))
        else:
            classifier = classifier.with_keywords(code, add={word: weight})
    return classifier
