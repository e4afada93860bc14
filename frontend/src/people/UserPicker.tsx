import { useEffect, useId, useState } from "react";

import { api } from "../api";
import { shownName } from "./People";
import { usePeople } from "./usePeople";

/** A user-name field that suggests known users as you type (the browser's own list), found by
 * login or display name; each suggestion shows the display name beside the login name. */
export function UserPicker({
  label,
  value,
  onChange,
  exclude,
  hideLabel = false,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  exclude: string[];
  hideLabel?: boolean; // for screen readers only, where the row says what the field is for
}) {
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const inputId = useId();
  const listId = useId();
  const people = usePeople(suggestions);

  useEffect(() => {
    const request = { cancelled: false };
    const timer = window.setTimeout(() => {
      void api
        .users(value.trim())
        .then((names) => {
          if (!request.cancelled) setSuggestions(names.filter((name) => !exclude.includes(name)));
        })
        .catch(() => undefined);
    }, 150);
    return () => {
      request.cancelled = true;
      window.clearTimeout(timer);
    };
  }, [value, exclude]);

  return (
    <>
      <label htmlFor={inputId} className={hideLabel ? "visually-hidden" : undefined}>
        {label}
      </label>
      <input
        id={inputId}
        list={listId}
        value={value}
        autoComplete="off"
        onChange={(e) => {
          onChange(e.target.value);
        }}
      />
      <datalist id={listId}>
        {suggestions.map((name) => (
          <option key={name} value={name} label={shownName(name, people?.get(name))} />
        ))}
      </datalist>
    </>
  );
}
