import { useId, useLayoutEffect, useRef, useState } from "react";

import type { ServerConfig } from "../api";
import { TabList, tabId } from "../app/TabList";
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
      document.getElementById(tabId(ids, tab))?.focus();
    }
    if (!open && element.open) element.close();
  }, [open, ids, tab]);

  return (
    <dialog ref={dialog} className="card dialog admin" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <div className="panel-head">
        <h2 id={`${ids}-title`}>Administration</h2>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      <TabList ids={ids} label="What to manage" tabs={tabs} labels={LABELS} selected={tab} onSelect={setTab} />
      <div role="tabpanel" id={`${ids}-panel`} aria-labelledby={tabId(ids, tab)} className="admin-panel">
        {open && tab === "users" && <UsersPanel me={me} rolesHere={config.role_source === "hubbub"} />}
        {open && tab === "invites" && <InvitesPanel />}
        {open && tab === "bots" && <BotsPanel />}
        {open && tab === "rooms" && <RoomsPanel />}
        {open && tab === "audit" && <AuditPanel />}
      </div>
    </dialog>
  );
}
