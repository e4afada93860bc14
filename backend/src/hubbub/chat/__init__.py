"""The chat itself, with no sockets in it: the service and its verbs, presence, fan-out to this
worker's connections, the envelopes workers exchange, and the per-room sequencing rules."""
