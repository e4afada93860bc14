"""Sockets: how a WebSocket's frames reach the chat and back. A session (JSON chat, the
tutorial's plain text) runs over a small Transport protocol, so tests drive it with a fake."""
