"""HTTP and WebSocket endpoints, grouped by who uses them."""
