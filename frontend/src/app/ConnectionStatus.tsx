import { isChange } from "../composer/Outbox";
import type { ChatSnapshot } from "../socket/ChatClient";

const LABELS: Record<ChatSnapshot["status"], string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  closed: "Disconnected",
};

export function ConnectionStatus({ snapshot, onReconnect }: { snapshot: ChatSnapshot; onReconnect: () => void }) {
  const waiting = snapshot.outbox.filter((p) => !p.failed && !isChange(p)).length;
  const retrying = snapshot.status === "reconnecting" || snapshot.status === "offline";
  return (
    <div className="status-line">
      <p className={`status status-${snapshot.status}`} role="status" data-testid="connection-status">
        <span className="dot" aria-hidden="true" />
        <span className="status-label">{LABELS[snapshot.status]}</span>
        {snapshot.status !== "connected" && snapshot.notice && (
          <span className="sr-detail"> — {snapshot.notice}</span>
        )}
        {waiting > 0 && snapshot.status !== "connected" && (
          <span className="sr-detail">
            {" "}
            ({waiting} message{waiting === 1 ? "" : "s"} waiting to send)
          </span>
        )}
      </p>
      {retrying && (
        <button type="button" className="link small" onClick={onReconnect}>
          Reconnect now
        </button>
      )}
    </div>
  );
}
