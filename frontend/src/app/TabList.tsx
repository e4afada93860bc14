import type { KeyboardEvent } from "react";

/** The id of a tab of a TabList, for the panel's aria-labelledby and for focus. */
export function tabId(ids: string, which: string): string {
  return `${ids}-tab-${which}`;
}

/** A row of tabs as the ARIA practices describe: one tab in the page's tab order (the
 * selected one), the arrow keys move between them (wrapping), Home and End to the ends, and
 * moving selects. The panel is `${ids}-panel`, labelled by the selected tab. */
export function TabList<T extends string>({
  ids,
  label,
  tabs,
  labels,
  selected,
  onSelect,
}: {
  ids: string;
  label: string;
  tabs: readonly T[];
  labels: Record<T, string>;
  selected: T;
  onSelect: (tab: T) => void;
}) {
  function onKey(event: KeyboardEvent<HTMLButtonElement>) {
    const at = tabs.indexOf(selected);
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, Home: -at, End: tabs.length - 1 - at };
    const step = moves[event.key];
    const next = step === undefined ? undefined : tabs[(at + step + tabs.length) % tabs.length];
    if (next === undefined) return;
    event.preventDefault();
    onSelect(next);
    document.getElementById(tabId(ids, next))?.focus();
  }

  return (
    <div role="tablist" aria-label={label} className="tabs">
      {tabs.map((which) => (
        <button
          key={which}
          type="button"
          role="tab"
          id={tabId(ids, which)}
          aria-selected={selected === which}
          aria-controls={`${ids}-panel`}
          tabIndex={selected === which ? 0 : -1}
          className={selected === which ? "tab selected" : "tab"}
          onKeyDown={onKey}
          onClick={() => {
            onSelect(which);
          }}
        >
          {labels[which]}
        </button>
      ))}
    </div>
  );
}
