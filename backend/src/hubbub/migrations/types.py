"""Column types as the code before Alembic declared them in each database (SQLite: INTEGER,
REAL; PostgreSQL: BIGINT, BOOLEAN, DOUBLE PRECISION), so that a database made new and one made
by an old Hubbub and upgraded are the same, column for column. Like the revisions, never
changed: a new type is a new name."""

from __future__ import annotations

import sqlalchemy as sa

Int: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Flag: sa.types.TypeEngine[bool] = sa.Boolean().with_variant(sa.Integer(), "sqlite")
Real: sa.types.TypeEngine[float] = sa.Double().with_variant(sa.REAL(), "sqlite")
