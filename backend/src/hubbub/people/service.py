"""People, as every worker holds them: accounts, profiles, the audit log, what admins do."""

from __future__ import annotations

from hubbub.chat import envelope
from hubbub.chat.bots import Bots
from hubbub.chat.rooms import Publish, Rooms
from hubbub.people.accounts import Accounts
from hubbub.people.admin import Administration
from hubbub.people.audit import Audit
from hubbub.people.profiles import Profiles
from hubbub.settings import Settings
from hubbub.store import Store


class People:
    def __init__(self, settings: Settings, store: Store, publish: Publish, rooms: Rooms, bots: Bots) -> None:
        async def announce() -> None:
            await publish(envelope.AccountsChanged())

        self.accounts = Accounts(settings, store, announce)
        self.profiles = Profiles(store, publish)
        self.audit = Audit(store)
        self.admin = Administration(settings, store, self.accounts, self.profiles, self.audit, rooms, bots)
