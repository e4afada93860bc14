"""People: accounts (password, role, deactivation), profiles, invitations, the audit log, and
what admins do. The chat service holds one People per worker (ChatService.people)."""
