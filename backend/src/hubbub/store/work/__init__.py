"""Each unit of work once, as a plain function over a SQLAlchemy Core connection that runs on
SQLite and PostgreSQL alike (the runners in sqlite.py and postgres.py hand them connections)."""
