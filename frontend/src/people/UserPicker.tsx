import { useEffect, useId, useState } from "react";

import { api } from "../api";

/** A user-name field that suggests known users as you type (the browser's own list). */
export function UserPicker({
  label,
  value,
  onChange,
  exclude,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  exclude: string[];
}) {
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const inputId = useId();
  const listId = useId();

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
      <label htmlFor={inputId}>{label}</label>
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
          <option key={name} value={name} />
        ))}
      </datalist>
    </>
  );
}
