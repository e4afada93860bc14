"""The wire contract, in one place: what clients send (commands), what the server sends
(events), how connections end (close codes), the REST shapes, and the tutorial's exact texts.

Frames and closes are made only from here. `hubbub.export_contract` writes the JSON Schema /
OpenAPI document the UI's TypeScript types are generated from (`scripts/gen-contract`).
"""
