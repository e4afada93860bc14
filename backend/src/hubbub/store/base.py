"""What every message store does (the Store protocol). The domain types it speaks in are in
hubbub/model.py; the one implementation, over SQLite or PostgreSQL, in database.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hubbub.model import (
    MEMBER,
    AccountState,
    Appended,
    AuditEntry,
    BotRecord,
    Clash,
    Draft,
    FileRecord,
    Found,
    Invite,
    Member,
    MessageChange,
    NewRoom,
    Profile,
    ProfileChange,
    RoomInfo,
    SessionRecord,
    StoredMessage,
    UserRecord,
)
from hubbub.search.query import SearchQuery


class Store(Protocol):
    """Durable history. Sequence numbers per room are gapless and commit in order."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...

    async def ensure_room(self, name: str) -> bool:
        """Create the public room if missing (the default room); True when it was created."""
        ...

    async def create_room(self, room: NewRoom) -> RoomInfo | None:
        """Create the room with its members (the owner as owner); None when the name, or for a
        DM the key, is taken. The answer is as its owner sees it."""
        ...

    async def rooms_created_by(self, user: str) -> int:
        """How many rooms the user has created."""
        ...

    async def room(self, name: str, user: str | None = None) -> RoomInfo | None:
        """The room, with ``user``'s role in it; None when it does not exist. A DM's members
        only for a member; a missing room costs the work of one ``user`` is not a member of."""
        ...

    async def find_dm(self, dm_key: str, user: str) -> RoomInfo | None: ...

    async def rooms_for(self, user: str | None, archived: bool = False) -> list[RoomInfo]:
        """Every public room and every room the user is a member of, by name; archived ones
        only when asked for. With rooms_of and public_rooms, its two halves, the only listing
        of rooms: nothing else enumerates them."""
        ...

    async def rooms_of(self, user: str, archived: bool = False) -> list[RoomInfo]:
        """The rooms the user is a member of, as rooms_for lists them, by name."""
        ...

    async def public_rooms(self, archived: bool = False) -> list[RoomInfo]:
        """Every public room as someone who is not a member sees it (no role, nothing read),
        by name: the same for everyone, so concurrent room lists may share one read."""
        ...

    async def update_room(
        self, name: str, topic: str | None = None, archived: bool | None = None
    ) -> None: ...

    async def members(self, room: str, after: str | None = None, limit: int | None = None) -> list[Member]:
        """The room's members by name (in the database's order of text: SQLite's is by bytes,
        PostgreSQL's its collation's): those after ``after`` (from the first when None), at
        most ``limit`` (all when None). A page is a range of an index: a room of any size
        answers in time bounded by the page."""
        ...

    async def add_members(self, room: str, users: Sequence[str], role: str = MEMBER) -> list[str]:
        """Make the users members; returns those who were not before."""
        ...

    async def remove_member(self, room: str, user: str) -> bool: ...

    async def count_members(self, room: str) -> int: ...

    async def members_among(self, room: str, names: Sequence[str]) -> list[str]:
        """Those of the names who are members of the room (to resolve @mentions)."""
        ...

    async def member_rooms(self, user: str) -> list[str]:
        """Every room the user is a member of (to tell them of new messages there)."""
        ...

    async def mark_read(self, room: str, user: str, seq: int) -> int | None:
        """Move the user's read position in the room up to seq (never down); returns it, or
        None when the user is not a member."""
        ...

    async def touch_users(self, names: Sequence[str]) -> None:
        """Remember that the users exist (signed in, connected, or configured): they can be
        found and invited. One write for all of them."""
        ...

    async def known_users(self, names: Sequence[str]) -> set[str]:
        """Those of the names the store has seen."""
        ...

    async def find_users(self, prefix: str, limit: int) -> list[str]:
        """Known user names starting with the prefix (case-insensitive), by name."""
        ...

    async def append_many(self, drafts: Sequence[Draft]) -> list[Appended]:
        """Store the drafts in order in one transaction, raising StoreUnavailableError (and
        writing none) when the store cannot be reached. Each draft is isolated from the others
        (a savepoint each): a draft whose client_msg_id that author already stored in that
        room comes back as (stored message, False) instead of being written twice. One for a
        missing room comes back as UnknownRoomError, one whose author is not a member of the
        room as NotMemberError (checked in the same transaction: a removal that commits first
        wins; and checked before the client_msg_id lookup, so a retry by someone who is no
        longer a member gets nothing back), one for an archived room as RoomArchivedError (to a
        member only: a non-member's is NotMemberError), one whose ``files`` are not all uploads
        of its author in that room not attached yet as UnknownFileError, one the store refuses
        for any other reason as MessageRejectedError; none of them fails the rest of the batch.
        A stored draft's files are attached to it (``StoredMessage.files``, in the order given)."""
        ...

    async def after(self, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
        """Messages with seq > after_seq, oldest first."""
        ...

    async def before(self, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
        """The newest `limit` messages with seq < before_seq (all when None), oldest first."""
        ...

    async def message(self, room: str, message_id: str) -> StoredMessage | None:
        """The message with that id in that room (a tombstone too), or None."""
        ...

    async def change_message(self, room: str, message_id: str, change: MessageChange) -> StoredMessage | None:
        """Apply the change in one transaction, giving it the room's next change number: an
        edit replaces the body (stamping edited_at), a delete leaves a tombstone (body,
        reactions and mentions gone; the seq stays), a reaction is added or taken back. Returns
        the message as it now is, or None when nothing changed (the same body, a reaction
        already there or already gone): no change number is used then. A delete also deletes
        the message's files (their rows: the bytes are the file collector's). Raises
        UnknownMessageError for a missing or deleted message, RoomArchivedError in an archived
        room, TooManyReactionsError for a new emoji past MAX_REACTION_KINDS. Change numbers
        per room are gapless and commit in order, like seq."""
        ...

    async def room_changes(self, room: str) -> int:
        """The room's newest change number (0 when nothing was ever changed)."""
        ...

    async def changed_since(
        self, room: str, after_change: int, after_seq: int, limit: int
    ) -> list[StoredMessage]:
        """Messages with seq > after_seq changed after change number after_change,
        by seq, as they now are."""
        ...

    async def search(self, user: str | None, query: SearchQuery, before: int | None, limit: int) -> Found:
        """Up to ``limit`` messages matching the query (search/query.py), newest first, from
        the rooms the user may read: public rooms, and the rooms and direct messages they are
        a member of (None: public rooms only); never a deleted message, always a message as it
        is now. ``before`` is a page's ``next_before``: the page after it. Sees every message,
        edit and delete stored before it was called (it catches the index up on the user's
        rooms first, up to CATCH_UP messages; more only while the history of before search is
        being indexed, after an upgrade)."""
        ...

    async def follow_index(self, rooms: Sequence[str] | None, limit: int) -> int:
        """Bring the search index up to date with the rooms' messages (every room's: None),
        looking at up to ``limit`` of them: new ones added, edited ones replaced, deleted ones
        removed. Returns how many it looked at: fewer than ``limit`` when it is up to date."""
        ...

    # --- files (the rows; their bytes are in the file storage, hubbub/files/)
    async def add_file(self, record: FileRecord, quota: int) -> None:
        """Keep the upload, unattached, unless the uploader's files would then take more than
        ``quota`` bytes together: UploadRefusedError (413), and nothing is written. Checked and
        added under the uploader's lock: concurrent uploads cannot both slip under it."""
        ...

    async def file(self, file_id: str) -> FileRecord | None: ...

    async def uploads_size(self, user: str) -> int:
        """How many bytes the user's files take, attached or not."""
        ...

    async def drop_unattached(self, before_ms: int) -> list[str]:
        """Delete the uploads made before ``before_ms`` and never attached; returns their ids."""
        ...

    async def referenced(self, digests: Sequence[str]) -> set[str]:
        """Those of the digests that a file (or a file's thumbnail) still names."""
        ...

    async def add_bot(self, name: str, token_hash: str) -> None:
        """A bot and the hash of its token; for an existing bot, a new token (the old one
        stops working) and it is no longer revoked."""
        ...

    async def revoke_bot(self, name: str) -> bool:
        """Its token stops working; False when there is no such bot (or it was revoked)."""
        ...

    async def bot_for_token(self, token_hash: str) -> str | None:
        """The name of the bot with that token hash, unless revoked."""
        ...

    async def bots(self) -> list[tuple[str, bool]]:
        """Every bot by name, and whether it is revoked."""
        ...

    async def create_session(self, record: SessionRecord) -> None: ...
    async def get_session(self, session_id: str) -> SessionRecord | None: ...
    async def delete_session(self, session_id: str) -> None: ...

    # --- accounts (hubbub/people/): every change to one is numbered by the accounts counter
    async def accounts_version(self) -> int:
        """The accounts counter: it moves with every change to an account."""
        ...

    async def account_states(self, since: int) -> list[AccountState]:
        """Accounts changed after counter value ``since`` (0: every account ever changed), in
        the order they changed."""
        ...

    async def account(self, name: str) -> AccountState | None: ...

    async def has_passwords(self) -> bool:
        """Whether any account has a password (else a password-mode server is new)."""
        ...

    async def create_account(
        self,
        name: str,
        password_hash: str,
        *,
        admin: bool,
        clash: Clash,
        invite_hash: str | None = None,
        first: bool = False,
    ) -> AccountState:
        """A new password account, in one transaction serialized with every other account
        change: through an invitation (spending one of its uses: of two accepting a single-use
        one, one wins) or as the first (while no account has a password). The name may not be
        anyone's name or display name, nor one ``clash`` objects to. Raises
        InviteUnusableError, SetupDoneError, NameUnavailableError, writing nothing."""
        ...

    async def set_password(self, name: str, password_hash: str, *, create: bool, admin: bool | None) -> bool:
        """Set the password (and role unless None) and reactivate; with ``create`` the account
        is made if missing. False when missing and not to be made."""
        ...

    async def adopt_users(self, entries: dict[str, tuple[str, bool, str]]) -> list[str]:
        """Adopt the users file (name -> (hash, admin, fingerprint of its line)): lines new or
        changed since last adopted are written in; accounts adopted from lines now gone are
        deactivated, without a password. Returns the names changed."""
        ...

    async def set_admin(self, name: str, admin: bool) -> AccountState | None:
        """Raises UnknownUserError, LastAdminError; None when it was so already."""
        ...

    async def record_role(self, name: str, admin: bool) -> bool:
        """Keep the role a credential carries (for the admin page); True when it changed."""
        ...

    async def set_deactivated(self, name: str, deactivated: bool) -> AccountState | None:
        """Deactivating ends every session of the user in the same transaction. Raises
        UnknownUserError, LastAdminError; None when it was so already."""
        ...

    async def users_listing(self) -> list[UserRecord]:
        """Every user but bots, by name."""
        ...

    # --- profiles
    async def profiles(self, names: Sequence[str]) -> list[Profile]:
        """Those of the names the store knows (bots too)."""
        ...

    async def update_profile(self, name: str, change: ProfileChange, clash: Clash) -> Profile:
        """Raises UnknownUserError, NameUnavailableError (a display name that is, or looks
        like, someone else's name or display name: checked in a transaction serialized with
        every other)."""
        ...

    async def set_avatar(self, name: str, digest: str | None) -> Profile:
        """The user's avatar is the image of that digest in the file storage (None: initials);
        the digest counts as named for the file collector from then on. Raises
        UnknownUserError."""
        ...

    # --- invitations
    async def create_invite(
        self, invite_id: str, token_hash: str, created_by: str, expires_at: int, uses: int
    ) -> Invite: ...

    async def open_invites(self) -> list[Invite]:
        """Invitations not used up, expired or revoked, oldest first."""
        ...

    async def revoke_invite(self, invite_id: str | None, token_hash: str | None) -> bool:
        """False when no open invitation has that id or token hash."""
        ...

    # --- the audit log
    async def record(self, actor: str, action: str, target: str, detail: str, address: str) -> None: ...

    async def audit_log(self, before: int | None, limit: int) -> list[AuditEntry]:
        """Entries with id < before (all when None), newest first."""
        ...

    # --- for admins
    async def bot_list(self) -> list[BotRecord]: ...

    async def create_bot(self, name: str, token_hash: str, clash: Clash) -> None:
        """Raises NameUnavailableError when a bot or user has the name, or one like it."""
        ...

    async def rotate_bot(self, name: str, token_hash: str) -> bool:
        """A new token (the old one stops working; a revoked bot works again); False when no
        such bot."""
        ...

    async def all_rooms(self) -> list[RoomInfo]:
        """Every room but direct messages, by name (for admins)."""
        ...

    async def transfer_owner(self, room: str, user: str) -> bool:
        """False when the user is not a member of the room."""
        ...

    # --- accounts of identity providers (auth mode oidc)
    async def bound_user(self, issuer: str, subject: str) -> str | None:
        """The user name an identity provider's account (its issuer and subject) is bound to."""
        ...

    async def bind_identity(self, issuer: str, subject: str, user: str, skeleton: str) -> str | None:
        """The user name the account is bound to: the one it already had, else ``user``, bound
        now, unless another account has that name or a name with that skeleton (what it looks
        like, auth/names.py): then None. Two accounts never share a name, even racing."""
        ...

    async def use_sign_in_state(self, digest: str, expires_at: float) -> bool:
        """True the first time a sign-in's state is used; False every time after, until
        ``expires_at`` (seconds since the epoch), when it is forgotten."""
        ...
