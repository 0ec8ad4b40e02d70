"""The ``residents-bot`` command: run, db, status, inbox, forget, import-roster, import-rota, export, report,
classify, eval, demo, simulator."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

PROGRESS_FROM_ROWS = 500


def _settings() -> object:
    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in err.errors())
        raise SystemExit(f"configuration error: {problems}") from None


def _cmd_run(args: argparse.Namespace) -> int:
    """Serve Telegram by long polling until Ctrl-C or SIGTERM."""
    from bot.bootstrap import run_bot
    from bot.config import Settings
    from bot.logging_setup import configure_logging

    settings = _settings()
    assert isinstance(settings, Settings)
    try:
        token = settings.token()
    except ValueError as err:
        raise SystemExit(str(err)) from None
    configure_logging(settings.log_level, [token])

    async def main() -> None:
        from bot.lifecycle import stop_on_signals

        stop = stop_on_signals()
        await run_bot(settings, stop)

    asyncio.run(main())
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    """Apply migrations (upgrade) or show the schema revision (current)."""
    from bot.config import Settings
    from storage.db import create_engine, current_revision, upgrade

    settings = _settings()
    assert isinstance(settings, Settings)

    async def main() -> None:
        engine = create_engine(settings.database_url)
        try:
            if args.action == "upgrade":
                await upgrade(engine, args.revision)
            print(await current_revision(engine) or "(empty database)")
        finally:
            await engine.dispose()

    asyncio.run(main())
    return 0


def _offline_deps(settings: Any, uow: Any, *, classify: bool = False) -> Any:
    """Service dependencies for a command-line run inside one unit of work (no bot, no Telegram)."""
    from bot.config import load_rules
    from bot.core.clock import SystemClock
    from bot.i18n import Catalog
    from bot.services.base import Deps

    rules = load_rules(settings.rules_file)
    classifier = None
    if classify:  # only commands that show category names need the (slow to load) classifier
        from bot.bootstrap import build_classifier, classifier_for

        classifier = classifier_for(build_classifier(), rules)
    return Deps(uow=lambda: uow, classifier=classifier, clock=SystemClock(), texts=Catalog(settings.locale),  # type: ignore[arg-type]
                rules=rules, timezone=settings.timezone, admin_ids=frozenset(settings.admin_ids))


def _with_unit_of_work(work: Callable[[Any], Awaitable[int]]) -> int:
    """Run ``work(uow)`` in one unit of work on the configured database; returns its exit code."""
    from bot.config import Settings
    from storage.db import create_engine, session_factory
    from storage.uow import SqlUnitOfWorkFactory

    settings = _settings()
    assert isinstance(settings, Settings)

    async def main() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
                return await work(uow)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _cmd_status(args: argparse.Namespace) -> int:
    """Print the health the database knows: queues, dead letters, instances' heartbeats."""
    from datetime import UTC, datetime

    async def show(uow: Any) -> int:
        now = datetime.now(UTC)
        inbox = await uow.inbox.counts()
        backlog, oldest = await uow.outbox.backlog()
        beats = await uow.heartbeats.all()
        age = f"{(now - oldest).total_seconds():.0f}s" if oldest else "-"
        print(f"inbox backlog: {inbox['backlog']}   dead letters: {inbox['dead']}")
        print(f"outbox backlog: {backlog}   oldest waiting: {age}")
        for name, (at, detail) in beats.items():
            figures = "  ".join(f"{k}={v}" for k, v in detail.items())
            print(f"instance {name}: last heartbeat {(now - at).total_seconds():.0f}s ago  {figures}")
        if not beats:
            print("no instance has reported a heartbeat yet")
        return 1 if inbox["dead"] else 0

    return _with_unit_of_work(show)


def _cmd_inbox(args: argparse.Namespace) -> int:
    """List dead letters, or put one back in the queue after a fix."""

    async def act(uow: Any) -> int:
        if args.action == "list":
            letters = await uow.inbox.dead_letters(200)
            for update_id, attempts, error in letters:
                print(f"{update_id}\tattempts={attempts}\t{error.splitlines()[0] if error else ''}")
            print(f"{len(letters)} dead letter(s)")
            return 0
        if args.update_id is None:
            print("usage: residents-bot inbox retry UPDATE_ID", file=sys.stderr)
            return 2
        if not await uow.inbox.retry(args.update_id):
            print(f"update {args.update_id} is not a dead letter", file=sys.stderr)
            return 1
        await uow.commit()
        print(f"update {args.update_id} queued again; the running bot handles it within 30 s")
        return 0

    return _with_unit_of_work(act)


def _cmd_forget(args: argparse.Namespace) -> int:
    """Erase one person's personal data; their cases stay, anonymised."""
    from bot.i18n import Catalog
    from bot.services.forget import forget_person

    placeholder = Catalog(_settings().locale).t("forget.placeholder")

    async def act(uow: Any) -> int:
        report = await forget_person(uow, args.user_id, placeholder)
        await uow.commit()
        figures = ", ".join(f"{kind} {n}" for kind, n in report.counts.items() if n)
        print(f"forgot user {args.user_id}: {report.total} row(s) changed ({figures or 'nothing was stored'})")
        return 0

    return _with_unit_of_work(act)


def _cmd_import(args: argparse.Namespace) -> int:
    """Import the roster or the duty rota from a CSV (UTF-8 or GBK) or XLSX file, all or nothing."""
    from pathlib import Path

    from bot.config import Settings
    from bot.i18n import Catalog
    from bot.services.roster import ROSTER_HEADERS, ROTA_HEADERS, ImportFileError, RosterImport, read_table

    settings = _settings()
    assert isinstance(settings, Settings)
    roster = args.command == "import-roster"
    texts = Catalog(settings.locale)
    try:
        rows = read_table(Path(args.file), ROSTER_HEADERS if roster else ROTA_HEADERS)
    except OSError as err:
        print(f"cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 2
    except ImportFileError as err:
        print(texts.t(err.key, **err.params), file=sys.stderr)
        return 1

    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if total < PROGRESS_FROM_ROWS:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="行", file=sys.stderr, disable=None)
        bar.update(done - bar.n)
        if done == total:
            bar.close()

    async def work(uow: Any) -> int:
        from bot.services.cases import CaseService

        deps = _offline_deps(settings, uow, classify=roster)  # a 离任 row refreshes case cards: category names
        importer = RosterImport(deps, CaseService(deps).release_cases_of)
        run = importer.import_roster if roster else importer.import_rota
        report = await run(uow, rows, skip_errors=args.skip_errors, progress=progress)
        if report.imported:
            await uow.commit()
        print(importer.describe(report))
        return 0 if report.imported and not report.errors else 1

    return _with_unit_of_work(work)


def _cmd_import_activities(args: argparse.Namespace) -> int:
    """Publish the activities of a YAML or CSV file (issue 7); prints each bad row and imports nothing then."""
    from pathlib import Path

    from bot.config import Settings
    from bot.services.activity_import import run_import

    settings = _settings()
    assert isinstance(settings, Settings)
    return _with_unit_of_work(lambda uow: run_import(uow, _offline_deps(settings, uow), settings, Path(args.file)))


def _cmd_export(args: argparse.Namespace) -> int:
    """Write the cases opened in a date range, with their history, as XLSX, CSV or Open311 JSON."""
    from pathlib import Path

    from bot.config import Settings
    from bot.core.errors import DomainError
    from bot.i18n import Catalog
    from bot.services.export import SUFFIX, CaseExport, parse_range
    settings = _settings()
    assert isinstance(settings, Settings)
    texts = Catalog(settings.locale)
    try:
        span = parse_range(f"{args.start} {args.end}")
    except DomainError as err:
        print(texts.t(err.key, **err.params), file=sys.stderr)
        return 2
    out = Path(args.out or f"cases-{span.first.isoformat()}-{span.last.isoformat()}{SUFFIX[args.format]}")

    async def work(uow: Any) -> int:
        count = await CaseExport(_offline_deps(settings, uow, classify=True)).write(uow, span, args.format, out)
        if not count:
            print(texts.t("export.none", start=span.first.isoformat(), end=span.last.isoformat()), file=sys.stderr)
            return 1
        print(f"{out}: {texts.t('export.done', count=count, start=span.first.isoformat(), end=span.last.isoformat())}")
        return 0

    return _with_unit_of_work(work)


def _cmd_report(args: argparse.Namespace) -> int:
    """Print the last complete week's, month's or quarter's report and write its chart."""
    from datetime import UTC, date, datetime
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from bot.config import Settings
    from bot.core.schedule import previous_period
    from bot.i18n import Catalog
    from bot.services.reports import ReportWriter

    settings = _settings()
    assert isinstance(settings, Settings)
    texts = Catalog(settings.locale)
    try:
        day = date.fromisoformat(args.at) if args.at else datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
    except ValueError:
        print(texts.t("export.bad_range"), file=sys.stderr)
        return 2

    async def work(uow: Any) -> int:

        writer = ReportWriter(_offline_deps(settings, uow, classify=True))
        first, _ = previous_period(args.period, day)
        report = await writer.report_for(uow, args.period, first)
        print(writer.text(report))
        chart = Path(args.chart or f"report-{args.period}-{first.isoformat()}.png")
        writer.chart(report, chart)
        print(chart)
        return 0

    return _with_unit_of_work(work)


def _cmd_classify(args: argparse.Namespace) -> int:
    """One message per line on stdin, one JSON verdict per line on stdout."""
    from nlp.cli import classify_main

    return classify_main(sys.stdin, sys.stdout, explain=args.explain)


def _cmd_eval(args: argparse.Namespace) -> int:
    """Measure the classifier on a labelled CSV/TSV file."""
    from nlp.cli import eval_main

    return eval_main(args.file, sys.stdout)


def _cmd_simulator(args: argparse.Namespace) -> int:
    """Start only the local Bot API simulator."""
    from simulator.__main__ import main as simulator_main

    argv = ["--host", args.host, "--port", str(args.port)]
    return simulator_main(argv) or 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo community on the local simulator, with its web chat page, until Ctrl-C."""
    from bot.demo import run_demo

    return run_demo(args.host, args.port, args.keep)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="residents-bot", description="邻里说事 — residents' group-chat bot")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve Telegram (BOT_TOKEN, TELEGRAM_API_URL, DATABASE_URL from .env)")
    run.set_defaults(func=_cmd_run)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.add_argument("revision", nargs="?", default="head")
    db.set_defaults(func=_cmd_db)

    status = sub.add_parser("status", help="queues, dead letters and instances' heartbeats (exit 1 on dead letters)")
    status.set_defaults(func=_cmd_status)

    inbox = sub.add_parser("inbox", help="dead letters: list them, or retry one after a fix")
    inbox.add_argument("action", choices=["list", "retry"])
    inbox.add_argument("update_id", nargs="?", type=int)
    inbox.set_defaults(func=_cmd_inbox)

    forget = sub.add_parser("forget", help="erase a person's personal data (their cases stay, anonymised)")
    forget.add_argument("user_id", type=int, help="the person's Telegram user id")
    forget.set_defaults(func=_cmd_forget)

    for name, what in (("import-roster", "people, roles, scopes, phones"), ("import-rota", "duty shifts")):
        importer = sub.add_parser(name, help=f"import {what} from a CSV (UTF-8 or GBK) or XLSX file")
        importer.add_argument("file")
        importer.add_argument("--skip-errors", action="store_true", help="import the good rows, skip the bad ones")
        importer.set_defaults(func=_cmd_import)

    activities = sub.add_parser("import-activities", help="publish activities from a YAML or CSV file (all or nothing)")
    activities.add_argument("file")
    activities.set_defaults(func=_cmd_import_activities)

    export = sub.add_parser("export", help="write cases with their history (XLSX, CSV or Open311 JSON)")
    export.add_argument("--from", dest="start", required=True, help="first day, e.g. 2026-10-01 (community time)")
    export.add_argument("--to", dest="end", required=True, help="last day, e.g. 2026-10-31 (included)")
    export.add_argument("--format", choices=["xlsx", "csv", "open311"], default="xlsx")
    export.add_argument("--out", help="file to write (default: cases-FROM-TO.xlsx|csv|json)")
    export.set_defaults(func=_cmd_export)

    report = sub.add_parser("report", help="staff report of the last complete week, month or quarter, with a chart")
    report.add_argument("period", choices=["week", "month", "quarter"])
    report.add_argument("--at", help="a day after the period, e.g. 2026-11-02 (default: today)")
    report.add_argument("--chart", help="PNG file for the chart (default: report-PERIOD-START.png)")
    report.set_defaults(func=_cmd_report)

    classify = sub.add_parser("classify", help="classify messages read from stdin, one per line")
    classify.add_argument("--explain", action="store_true", help="show tokens and the deciding rule")
    classify.set_defaults(func=_cmd_classify)

    evaluate = sub.add_parser("eval", help="measure the classifier on a labelled CSV/TSV (text,label)")
    evaluate.add_argument("file")
    evaluate.set_defaults(func=_cmd_eval)

    demo = sub.add_parser("demo", help="a demo community on the local simulator with a web chat page (no token)")
    demo.add_argument("--port", type=int, default=8080, help="port of the page and the simulator (0: any free one)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--keep", action="store_true", help="continue the last demo instead of starting afresh")
    demo.set_defaults(func=_cmd_demo)

    sim = sub.add_parser("simulator", help="start only the local Bot API simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8081)
    sim.set_defaults(func=_cmd_simulator)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``residents-bot``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
