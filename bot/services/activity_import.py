"""Activities from a file (``residents-bot import-activities FILE``): YAML or CSV, all or nothing.

YAML: a list of ``{title, time, place, audience, capacity, description?}``. CSV (UTF-8 or GBK) with the
header ``标题,时间,地点,对象,人数[,介绍][,截止]`` (or the English names). Times are read like the dialogue's
("11月28日 下午3点", "每周五 19:30", "cron: 0 9 1 * *") in the community's time zone. Every row is
checked first; if any is wrong nothing is published and each error is printed with its row number.
The activities are announced through the outbox, so a running bot sends them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from bot.core.activities import Activity, ActivityStatus
from bot.core.errors import DomainError
from bot.core.ports import UnitOfWork
from bot.services.activities import ActivityService
from bot.services.audience import resolve_audience
from bot.services.base import Deps

COLUMNS = {
    "标题": "title", "名称": "title", "时间": "time", "地点": "place", "对象": "audience", "人数": "capacity",
    "介绍": "description", "截止": "deadline",
}
REQUIRED = ("title", "time", "place", "audience", "capacity")


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a YAML or CSV activity file, with English field names; raises ValueError when unreadable."""
    raw = path.read_bytes()
    if path.suffix.lower() in (".yaml", ".yml"):
        data = yaml.safe_load(raw.decode("utf-8")) or []
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ValueError("the YAML file must be a list of activities")
        return [{str(k): str(v) for k, v in item.items() if v is not None} for item in data]
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError("cannot decode the CSV file (use UTF-8 or GBK)")
    reader = csv.DictReader(io.StringIO(text))
    return [{COLUMNS.get(k.strip(), k.strip()): (v or "").strip() for k, v in row.items() if k} for row in reader]


async def import_activities(
    uow: UnitOfWork, service: ActivityService, rows: list[dict[str, Any]], organiser_id: int
) -> tuple[list[Activity], list[str]]:
    """Check every row, then publish all of them (or none: the errors are returned instead)."""
    t = service.t
    now = service.deps.clock.now()
    community = await service.community(uow)
    drafts: list[Activity] = []
    errors: list[str] = []
    for line, row in enumerate(rows, start=2):
        missing = [name for name in REQUIRED if not str(row.get(name, "")).strip()]
        if missing:
            errors.append(t("import.error_line", line=line, reason=t("import.missing_columns", line=line,
                                                                       columns=", ".join(missing))))
            continue
        try:
            deadline_text = str(row.get("deadline", "")).strip()
            starts_at, rule, deadline = service.times(row["time"] + (f" 截止 {deadline_text}" if deadline_text else ""))
            audience = await resolve_audience(uow, community, row["audience"])
            capacity = service.capacity(row["capacity"])
        except DomainError as err:
            errors.append(t("import.error_line", line=line, reason=service.refusal_text(err)))
            continue
        drafts.append(
            Activity(
                None, community.id, row["title"][:60], starts_at, capacity, organiser_id, now,
                description=row.get("description", ""), place=row["place"][:100], rule=rule,
                audience=audience.label, targets=audience.chat_ids, signup_deadline=deadline,
                status=ActivityStatus.DRAFT,
            )
        )
    if errors:
        return [], errors
    return [await service.add(uow, draft) for draft in drafts], []


async def run_import(uow: UnitOfWork, deps: Deps, settings: Any, path: Path) -> int:
    """The ``import-activities`` command: read, check, publish, commit; returns the exit code."""
    from bot.services.points import PointsService

    texts = deps.texts
    try:
        rows = read_rows(path)
    except (OSError, ValueError, yaml.YAMLError) as err:
        print(f"{path}: {err}")
        return 2
    organiser = min(settings.admin_ids) if settings.admin_ids else 0
    service = ActivityService(deps, PointsService(deps))
    published, errors = await import_activities(uow, service, rows, organiser)
    for error in errors:
        print(error)
    if errors:
        print(texts.t("import.refused", count=len(errors)))
        return 1
    await uow.commit()
    for activity in published:
        print(f"#{activity.id} {activity.title} · {service.show_time(activity.starts_at)} · {activity.audience}")
    return 0
