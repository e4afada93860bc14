import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode, type SyntheticEvent } from "react";

import { api, ApiError, type AdminBot, type AdminRoom, type AdminUser, type AuditEntry, type Invite } from "../api";
import { UserPicker } from "../people/UserPicker";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function date(ms: number): string {
  return when.format(new Date(ms));
}

/** A panel's list, loaded when it opens and again after each action; what went wrong, said. */
function useList<T>(load: () => Promise<T[]>): {
  items: T[] | null;
  error: string | null;
  act: (what: () => Promise<unknown>, done?: string) => Promise<boolean>;
  notice: string | null;
} {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const reload = useCallback(
    () =>
      load().then(setItems, (caught: unknown) => {
        setError(caught instanceof ApiError ? caught.message : "The list could not be loaded; try again.");
      }),
    [load],
  );
  useEffect(() => {
    void reload();
  }, [reload]);
  const act = useCallback(
    async (what: () => Promise<unknown>, done?: string) => {
      try {
        await what();
        setError(null);
        setNotice(done ?? null);
        await reload();
        return true;
      } catch (caught) {
        setNotice(null);
        setError(caught instanceof ApiError ? `${caught.message[0]?.toUpperCase() ?? ""}${caught.message.slice(1)}.` : "The server could not be reached; try again.");
        return false;
      }
    },
    [reload],
  );
  return { items, error, act, notice };
}

function Said({ error, notice }: { error: string | null; notice: string | null }) {
  return (
    <>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p className="muted small said" role="status">
        {notice ?? ""}
      </p>
    </>
  );
}

function Table({ caption, head, children }: { caption: string; head: string[]; children: ReactNode }) {
  return (
    // A table wider than a phone scrolls sideways: by keyboard too, so it takes focus.
    <div className="table-scroll" role="region" aria-label={`${caption} (table)`} tabIndex={0}>
      <table className="admin-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A secret shown once (an invitation link, a bot token), to copy. */
function ShownOnce({ label, value }: { label: string; value: string }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <div className="shown-once">
      <label htmlFor={id}>{label}</label>
      <div className="row">
        <input id={id} readOnly value={value} onFocus={(e) => {
          e.target.select();
        }} />
        <button
          type="button"
          className="small"
          onClick={() => {
            if (!("clipboard" in navigator)) return;
            void navigator.clipboard.writeText(value).then(() => {
              setCopied(true);
            });
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <p className="muted small">Shown only now: the server keeps no copy it could show again.</p>
    </div>
  );
}

/** An action that is not simply taken back (it signs someone out everywhere, breaks a bot's
 * integration, kills a link someone was sent): the first press asks, "Yes" does it; Cancel or
 * Esc goes back to the button (Esc without closing the admin page). */
function ConfirmAction({
  label,
  name,
  question,
  yes,
  onYes,
}: {
  label: string;
  name: string;
  question: string;
  yes: string;
  onYes: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const first = useRef<HTMLButtonElement>(null);
  const backToButton = useRef(false);
  useLayoutEffect(() => {
    if (asking) {
      first.current?.focus();
    } else if (backToButton.current) {
      backToButton.current = false;
      button.current?.focus();
    }
  }, [asking]);
  function answer(yes: boolean) {
    backToButton.current = true;
    setAsking(false);
    if (yes) onYes();
  }
  if (!asking) {
    return (
      <button
        ref={button}
        type="button"
        className="small danger"
        aria-label={name}
        onClick={() => {
          setAsking(true);
        }}
      >
        {label}
      </button>
    );
  }
  return (
    // eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions
    <span
      className="confirm"
      role="group"
      aria-label={question}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation();
          answer(false);
        }
      }}
    >
      <span>{question}</span>
      <button
        ref={first}
        type="button"
        className="small danger"
        onClick={() => {
          answer(true);
        }}
      >
        {yes}
      </button>
      <button
        type="button"
        className="link small"
        onClick={() => {
          answer(false);
        }}
      >
        Cancel
      </button>
    </span>
  );
}

// --- users
export function UsersPanel({ me, rolesHere }: { me: string; rolesHere: boolean }) {
  const { items, error, act, notice } = useList<AdminUser>(api.adminUsers);
  return (
    <>
      {!rolesHere && <p className="muted small">In this auth mode roles come from the sign-in (tokens or the identity provider): they are shown here, not changed.</p>}
      <Said error={error} notice={notice} />
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <Table caption="Users" head={["Name", "Role", "Last seen", "State", "Actions"]}>
          {items.map((user) => (
            <tr key={user.name}>
              <td>
                <span dir="auto">{user.display_name || user.name}</span>
                {user.display_name && <span className="muted small" dir="auto"> @{user.name}</span>}
              </td>
              <td>{user.admin ? "admin" : "member"}</td>
              <td>{user.online ? "online now" : date(user.last_seen)}</td>
              <td>{user.deactivated ? "deactivated" : "active"}</td>
              <td className="actions-cell">
                {rolesHere && !user.deactivated && (
                  <button
                    type="button"
                    className="small"
                    aria-label={`${user.admin ? "Remove admin from" : "Make admin"} ${user.name}`}
                    onClick={() => void act(() => api.setRole(user.name, !user.admin), `${user.name} is now ${user.admin ? "a member" : "an admin"}.`)}
                  >
                    {user.admin ? "Remove admin" : "Make admin"}
                  </button>
                )}
                {user.deactivated ? (
                  <button
                    type="button"
                    className="small"
                    aria-label={`Reactivate ${user.name}`}
                    onClick={() => void act(() => api.reactivate(user.name), `${user.name} can sign in again.`)}
                  >
                    Reactivate
                  </button>
                ) : (
                  user.name !== me && (
                    <ConfirmAction
                      label="Deactivate"
                      name={`Deactivate ${user.name}`}
                      question={`Deactivate ${user.name}? They are signed out everywhere at once; their messages stay.`}
                      yes="Yes, deactivate"
                      onYes={() => void act(() => api.deactivate(user.name), `${user.name} is deactivated: signed out everywhere.`)}
                    />
                  )
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

// --- invitations
const EXPIRIES: [number, string][] = [
  [24 * 3600, "1 day"],
  [7 * 24 * 3600, "7 days"],
  [30 * 24 * 3600, "30 days"],
];

export function InvitesPanel() {
  const { items, error, act, notice } = useList<Invite>(api.invites);
  const [uses, setUses] = useState(1);
  const [expires, setExpires] = useState(7 * 24 * 3600);
  const [link, setLink] = useState<string | null>(null);
  const ids = { uses: useId(), expires: useId() };

  async function create(event: SyntheticEvent) {
    event.preventDefault();
    await act(async () => {
      setLink((await api.createInvite(uses, expires)).url);
    }, "Invitation made: copy the link and send it.");
  }

  return (
    <>
      <form className="admin-form" onSubmit={(e) => void create(e)}>
        <label htmlFor={ids.uses}>People it lets in</label>
        <input
          id={ids.uses}
          type="number"
          min={1}
          max={1000}
          value={uses}
          onChange={(e) => {
            setUses(Math.max(1, Math.min(1000, Number(e.target.value) || 1)));
          }}
        />
        <label htmlFor={ids.expires}>Valid for</label>
        <select
          id={ids.expires}
          value={expires}
          onChange={(e) => {
            setExpires(Number(e.target.value));
          }}
        >
          {EXPIRIES.map(([seconds, label]) => (
            <option key={seconds} value={seconds}>
              {label}
            </option>
          ))}
        </select>
        <button type="submit">Make an invitation link</button>
      </form>
      {link && <ShownOnce label="Invitation link" value={link} />}
      <Said error={error} notice={notice} />
      <h3>Open invitations</h3>
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p className="muted">None open.</p>
      ) : (
        <Table caption="Open invitations" head={["Made by", "Used", "Expires", "Actions"]}>
          {items.map((invite) => (
            <tr key={invite.id}>
              <td dir="auto">{invite.created_by}</td>
              <td>
                {invite.used} of {invite.uses}
              </td>
              <td>{date(invite.expires_at)}</td>
              <td>
                <ConfirmAction
                  label="Revoke"
                  name={`Revoke the invitation made ${date(invite.created_at)} by ${invite.created_by}`}
                  question="Revoke this invitation? Its link stops working."
                  yes="Yes, revoke"
                  onYes={() => void act(() => api.revokeInvite(invite.id), "Invitation revoked.")}
                />
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

// --- bots
export function BotsPanel() {
  const { items, error, act, notice } = useList<AdminBot>(api.adminBots);
  const [name, setName] = useState("");
  const [token, setToken] = useState<{ name: string; token: string } | null>(null);
  const id = useId();

  async function create(event: SyntheticEvent) {
    event.preventDefault();
    const wanted = name.trim();
    if (!wanted) return;
    if (await act(async () => {
      setToken(await api.createBot(wanted));
    }, `Bot ${wanted} made: invite it to rooms like anyone.`)) setName("");
  }

  return (
    <>
      <form className="admin-form" onSubmit={(e) => void create(e)}>
        <label htmlFor={id}>New bot's name</label>
        <input
          id={id}
          maxLength={32}
          autoComplete="off"
          value={name}
          onChange={(e) => {
            setName(e.target.value);
          }}
        />
        <button type="submit" disabled={!name.trim()}>
          Make a bot
        </button>
      </form>
      {token && <ShownOnce label={`Token of ${token.name}`} value={token.token} />}
      <Said error={error} notice={notice} />
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p className="muted">No bots yet.</p>
      ) : (
        <Table caption="Bots" head={["Name", "Token", "Rooms", "Actions"]}>
          {items.map((bot) => (
            <tr key={bot.name}>
              <td dir="auto">{bot.name}</td>
              <td>{bot.revoked ? "revoked" : "working"}</td>
              <td>{bot.rooms.length ? bot.rooms.map((r) => `#${r}`).join(", ") : <span className="muted">none</span>}</td>
              <td className="actions-cell">
                <ConfirmAction
                  label="New token"
                  name={`New token for ${bot.name}`}
                  question={`A new token for ${bot.name}? The one it uses now stops working at once.`}
                  yes="Yes, new token"
                  onYes={() =>
                    void act(async () => {
                      setToken(await api.rotateBot(bot.name));
                    }, `New token for ${bot.name}: the old one stopped working.`)
                  }
                />
                {!bot.revoked && (
                  <ConfirmAction
                    label="Revoke"
                    name={`Revoke ${bot.name}'s token`}
                    question={`Revoke ${bot.name}'s token? It cannot post until it gets a new one.`}
                    yes="Yes, revoke"
                    onYes={() => void act(() => api.revokeBot(bot.name), `${bot.name}'s token revoked.`)}
                  />
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

// --- rooms
const NOBODY: string[] = [];

export function RoomsPanel() {
  const { items, error, act, notice } = useList<AdminRoom>(api.adminRooms);
  const [moving, setMoving] = useState<string | null>(null);
  const [owner, setOwner] = useState("");
  return (
    <>
      <p className="muted small">Private rooms are listed, not opened: reading one takes an invitation from its members, for admins too.</p>
      <Said error={error} notice={notice} />
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <Table caption="Rooms" head={["Room", "Visibility", "Owner", "Members", "Actions"]}>
          {items.map((room) => (
            <tr key={room.name}>
              <td dir="auto">
                # {room.name}
                {room.archived && <span className="muted small"> (archived)</span>}
              </td>
              <td>{room.visibility}</td>
              <td dir="auto">{room.owner ?? <span className="muted">none</span>}</td>
              <td>{room.member_count}</td>
              <td className="actions-cell">
                <button
                  type="button"
                  className="small"
                  aria-label={`${room.archived ? "Unarchive" : "Archive"} #${room.name}`}
                  onClick={() => void act(() => api.archiveRoom(room.name, !room.archived), `#${room.name} ${room.archived ? "is back" : "is archived"}.`)}
                >
                  {room.archived ? "Unarchive" : "Archive"}
                </button>
                <button
                  type="button"
                  className="small"
                  aria-expanded={moving === room.name}
                  aria-label={`Give #${room.name} to another member`}
                  onClick={() => {
                    setMoving(moving === room.name ? null : room.name);
                    setOwner("");
                  }}
                >
                  New owner
                </button>
                {moving === room.name && (
                  <form
                    className="row"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void act(() => api.transferRoom(room.name, owner.trim()), `#${room.name} now belongs to ${owner.trim()}.`).then((done) => {
                        if (done) setMoving(null);
                      });
                    }}
                  >
                    <UserPicker label={`New owner of #${room.name} (a member)`} value={owner} onChange={setOwner} exclude={NOBODY} hideLabel />
                    <button type="submit" className="small" disabled={!owner.trim()}>
                      Give
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

// --- the audit log
/** What each audit action code means, in words (the code itself on hover, and for one this
 * page does not know yet). */
const ACTIONS: Record<string, string> = {
  "setup.first_admin": "made the first admin",
  "invite.create": "made an invitation",
  "invite.revoke": "revoked an invitation",
  "invite.accept": "signed up through an invitation",
  "user.admin": "made an admin",
  "user.member": "made a member (no longer admin)",
  "user.deactivate": "deactivated",
  "user.reactivate": "reactivated",
  "bot.create": "made a bot",
  "bot.rotate": "gave a bot a new token",
  "bot.revoke": "revoked a bot",
  "room.archive": "archived a room",
  "room.unarchive": "unarchived a room",
  "room.owner": "gave a room a new owner",
};

export function AuditPanel() {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [more, setMore] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    (before: number | null) =>
      api.audit(before).then(
        (page) => {
          setEntries((old) => (before === null ? page : [...(old ?? []), ...page]));
          setMore(page.length === 100);
          setError(null);
        },
        () => {
          setError("The log could not be loaded; try again.");
        },
      ),
    [],
  );
  useEffect(() => {
    void load(null);
  }, [load]);

  return (
    <>
      <Said error={error} notice={null} />
      {entries === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <Table caption="Audit log, newest first" head={["When", "Who", "What", "Of", "From"]}>
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td>{date(entry.at)}</td>
              <td dir="auto">{entry.actor}</td>
              <td title={entry.action}>{ACTIONS[entry.action] ?? entry.action}</td>
              <td dir="auto">{entry.target}</td>
              <td>{entry.address}</td>
            </tr>
          ))}
        </Table>
      )}
      {entries && more && (
        <button type="button" className="small" onClick={() => void load(entries[entries.length - 1]?.id ?? null)}>
          Older entries
        </button>
      )}
    </>
  );
}
