import { useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";

import type { ServerConfig } from "../api";
import { AuditPanel, BotsPanel, InvitesPanel, RoomsPanel, UsersPanel } from "./panels";

type Tab = "users" | "invites" | "bots" | "rooms" | "audit";

const LABELS: Record<Tab, string> = {
  users: "Users",
  invites: "Invitations",
  bots: "Bots",
  rooms: "Rooms",
  audit: "Audit log",
};

/** The admin page (admins only): users, invitations (password mode), bots, rooms, the audit
 * log. Every action is written to the audit log by the server. */
export function AdminPage({
  open,
  me,
  config,
  onClose,
}: {
  open: boolean;
  me: string;
  config: ServerConfig;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const ids = useId();
  const tabs: Tab[] = config.auth_mode === "password" ? ["users", "invites", "bots", "rooms", "audit"] : ["users", "bots", "rooms", "audit"];
  const [tab, setTab] = useState<Tab>("users");

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      document.getElementById(`${ids}-tab-${tab}`)?.focus();
    }
    if (!open && element.open) element.close();
  }, [open, ids, tab]);

  function onTabKey(event: KeyboardEvent<HTMLButtonElement>) {
    const at = tabs.indexOf(tab);
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, Home: -at, End: tabs.length - 1 - at };
    const step = moves[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const next = tabs[(at + step + tabs.length) % tabs.length] ?? "users";
    setTab(next);
    document.getElementById(`${ids}-tab-${next}`)?.focus();
  }

  return (
    <dialog ref={dialog} className="card dialog admin" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <div className="panel-head">
        <h2 id={`${ids}-title`}>Administration</h2>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      <div role="tablist" aria-label="What to manage" className="tabs">
        {tabs.map((which) => (
          <button
            key={which}
            type="button"
            role="tab"
            id={`${ids}-tab-${which}`}
            aria-selected={tab === which}
            aria-controls={`${ids}-panel`}
            tabIndex={tab === which ? 0 : -1}
            className={tab === which ? "tab selected" : "tab"}
            onKeyDown={onTabKey}
            onClick={() => {
              setTab(which);
            }}
          >
            {LABELS[which]}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${ids}-panel`} aria-labelledby={`${ids}-tab-${tab}`} className="admin-panel">
        {open && tab === "users" && <UsersPanel me={me} rolesHere={config.role_source === "hubbub"} />}
        {open && tab === "invites" && <InvitesPanel />}
        {open && tab === "bots" && <BotsPanel />}
        {open && tab === "rooms" && <RoomsPanel />}
        {open && tab === "audit" && <AuditPanel />}
      </div>
    </dialog>
  );
}
