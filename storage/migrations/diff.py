"""Print the Alembic operations that bring a database at the current head up to ``storage.models``.

Run ``python -m storage.migrations.diff`` after changing the models, and paste what it prints into the
``upgrade()`` of a new file in ``versions/`` (``downgrade()`` gets the reverse). It upgrades a throw-away
SQLite database to the head first, so it only shows what the models add. ``UTCDateTime`` columns are
printed as ``sa.DateTime(timezone=True)``, which is how migrations spell them.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from storage.db import create_engine, upgrade
from storage.models import Base


def _render(connection: Connection) -> str:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True, "target_metadata": Base.metadata}
    )
    script = produce_migrations(context, Base.metadata)
    code = render_python_code(script.upgrade_ops, render_as_batch=True)  # type: ignore[arg-type]
    return code.replace("storage.models.UTCDateTime(timezone=True)", "sa.DateTime(timezone=True)").replace(
        "storage.models.UTCDateTime()", "sa.DateTime(timezone=True)"
    )


async def diff() -> str:
    """The upgrade operations (Python source) the models need beyond the head revision."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'diff.db'}")
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                return await conn.run_sync(_render)
        finally:
            await engine.dispose()


if __name__ == "__main__":
    sys.stdout.write(asyncio.run(diff()) + "\n")
