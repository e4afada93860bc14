"""Hubbub: a self-hosted real-time chat server."""

__version__ = "0.1.0"
