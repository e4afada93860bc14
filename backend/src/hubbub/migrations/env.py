"""Alembic's entry point. The store runs it on its own connection, inside the transaction that
holds the migration lock (hubbub/store/schema.py). Run by the `alembic` command (DEVELOPERS.md),
it connects to the SQLite database given as `-x url=sqlite:///path`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from hubbub.store.schema import VERSION_TABLE
from hubbub.store.tables import described, metadata


def run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_name=described,
        render_as_batch=True,  # SQLite alters most things by copying the table: batch mode does
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url or not url.startswith("sqlite:"):
        raise SystemExit("pass the database as -x url=sqlite:///path/to/hubbub.db (or run `hubbub migrate`)")
    with create_engine(url).begin() as connection:
        run(connection)
