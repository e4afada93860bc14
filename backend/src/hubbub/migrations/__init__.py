"""Alembic's migrations of the store's schema (see hubbub/store/schema.py, which runs them when
the store starts, and DEVELOPERS.md, "Changing the schema")."""
