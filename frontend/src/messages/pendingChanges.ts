import type { PendingMessage } from "../composer/Outbox";
import type { ChatMessage } from "../socket/protocol";

type Reaction = ChatMessage["reactions"][number];

/** How a message shows while the user's changes to it wait for the server: the newest edit's
 * body, a delete as "deleting", reactions toggled. The server's answer replaces all of it. */
export interface Shown {
  message: ChatMessage;
  saving: boolean;
  deleting: boolean;
}

export function withPending(message: ChatMessage, outbox: readonly PendingMessage[], me: string): Shown {
  const mine = outbox.filter((p) => p.target === message.id && !p.failed);
  if (mine.length === 0) return { message, saving: false, deleting: false };
  let shown = message;
  for (const change of mine) {
    if (change.kind === "edit") shown = { ...shown, body: change.body };
    if (change.kind === "react" && change.emoji) shown = { ...shown, reactions: toggled(shown.reactions, change.emoji, me, change.on ?? true) };
  }
  return {
    message: shown,
    saving: mine.some((p) => p.kind === "edit"),
    deleting: mine.some((p) => p.kind === "delete"),
  };
}

export function toggled(reactions: readonly Reaction[], emoji: string, me: string, on: boolean): Reaction[] {
  const found = reactions.find((r) => r.emoji === emoji);
  const has = found?.users.includes(me) ?? false;
  if (on === has) return [...reactions];
  if (on) {
    return found
      ? reactions.map((r) => (r === found ? { ...r, count: r.count + 1, users: [...r.users, me] } : r))
      : [...reactions, { emoji, count: 1, users: [me] }];
  }
  return reactions
    .map((r) => (r === found ? { ...r, count: r.count - 1, users: r.users.filter((u) => u !== me) } : r))
    .filter((r) => r.count > 0);
}
