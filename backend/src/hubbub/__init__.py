"""Hubbub: a self-hosted real-time chat server."""

__version__ = "0.2.0"  # the one place it is said (pyproject.toml reads it); CHANGELOG.md
