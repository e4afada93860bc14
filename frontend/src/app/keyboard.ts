import { useEffect } from "react";

/** The chat's keyboard shortcuts, as the shortcut list shows them. */
export const SHORTCUTS: readonly (readonly [keys: string, what: string])[] = [
  ["Ctrl+K (⌘K)", "Jump to a room, a conversation or a person"],
  ["/", "Search messages"],
  ["Alt+↑ / Alt+↓", "Previous / next room in the list"],
  ["Alt+Shift+↑ / Alt+Shift+↓", "Previous / next room with something unread"],
  ["Esc", "Mark the room read"],
  ["Enter", "Send the message"],
  ["Shift+Enter", "New line in the message"],
  ["↑ in an empty message box", "Edit your last message"],
  ["@", "Mention someone"],
  ["? or Ctrl+/", "This list"],
];

export interface ShortcutActions {
  switcher: () => void;
  search: () => void;
  shortcuts: () => void;
  /** Open the room `step` away in the list; only rooms with something unread if `unread`. */
  step: (step: 1 | -1, unread: boolean) => void;
  markRead: () => void;
}

function typingIn(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && (target as HTMLInputElement).type !== "checkbox"))
  );
}

/** Listens on the whole window; a key something else already handled (a picker's Esc, a
 * dialog's) is left alone, and nothing but Ctrl+K acts while a dialog is open. */
export function useShortcuts(actions: ShortcutActions): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing) return;
      const mod = event.ctrlKey || event.metaKey;
      const dialogOpen = document.querySelector("dialog[open]") !== null;
      if (mod && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        if (!dialogOpen) actions.switcher();
        return;
      }
      if (dialogOpen) return;
      if (mod && event.key === "/") {
        event.preventDefault();
        actions.shortcuts();
      } else if (event.altKey && !mod && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
        event.preventDefault();
        actions.step(event.key === "ArrowDown" ? 1 : -1, event.shiftKey);
      } else if (event.key === "/" && !mod && !event.altKey && !typingIn(event.target)) {
        event.preventDefault();
        actions.search();
      } else if (event.key === "?" && !mod && !typingIn(event.target)) {
        event.preventDefault();
        actions.shortcuts();
      } else if (event.key === "Escape" && !mod && !event.altKey) {
        actions.markRead();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
    };
  }, [actions]);
}
