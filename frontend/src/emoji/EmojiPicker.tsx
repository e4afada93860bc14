import { useLayoutEffect, useRef, type KeyboardEvent } from "react";

const RECENT_KEY = "hubbub.recentEmoji";
const RECENT_MAX = 8;
const COMMON = ["👍", "❤️", "😂", "🎉", "👀", "✅", "🙏", "🔥", "😮", "😢", "🚀", "👎", "💯", "🤔", "👏", "☕"];

export function recentEmoji(): string[] {
  try {
    const saved: unknown = JSON.parse(window.localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(saved) ? saved.filter((e): e is string => typeof e === "string").slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

function remember(emoji: string): void {
  try {
    const recent = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, RECENT_MAX);
    window.localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
  } catch {
    // storage disabled: nothing is remembered
  }
}

/** A small choice of reactions: the user's recent ones first, then common ones. */
export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const recent = recentEmoji();
  const choices = [...recent, ...COMMON.filter((e) => !recent.includes(e))];
  const first = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => {
    first.current?.focus();
  }, []);
  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      onClose();
    }
  }
  return (
    // Esc from any of its buttons closes it.
    // eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions
    <div className="emoji-picker" role="group" aria-label="Pick a reaction" onKeyDown={onKeyDown}>
      {choices.map((emoji, index) => (
        <button
          key={emoji}
          ref={index === 0 ? first : undefined}
          type="button"
          aria-label={`React with ${emoji}`}
          onClick={() => {
            remember(emoji);
            onPick(emoji);
          }}
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}
