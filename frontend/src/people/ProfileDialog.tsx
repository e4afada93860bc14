import { useEffect, useId, useLayoutEffect, useRef, useState, type SyntheticEvent } from "react";

import { api, ApiError } from "../api";
import type { PeopleDirectory } from "./People";
import { Avatar } from "./PersonName";

function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

/** Your profile: display name, status (an emoji and a line), time zone. Saved changes reach
 * everyone's open clients at once. */
export function ProfileDialog({
  open,
  me,
  people,
  onClose,
}: {
  open: boolean;
  me: string;
  people: PeopleDirectory;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const first = useRef<HTMLInputElement>(null);
  const ids = { title: useId(), name: useId(), emoji: useId(), status: useId(), zone: useId(), error: useId() };
  const [form, setForm] = useState({ display_name: "", status_emoji: "", status_text: "", time_zone: "" });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const profile = people.get(me);

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      first.current?.focus();
    }
    if (!open && element.open) element.close();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    void api.profile(me).then(
      (found) => {
        people.apply(found);
        setForm({
          display_name: found.display_name,
          status_emoji: found.status_emoji,
          status_text: found.status_text,
          time_zone: found.time_zone,
        });
      },
      () => undefined,
    );
  }, [open, me, people]);

  async function save(event: SyntheticEvent) {
    event.preventDefault();
    try {
      people.apply(await api.updateProfile(form));
      setError(null);
      setSaved(true);
    } catch (caught) {
      setSaved(false);
      setError(caught instanceof ApiError ? caught.message : "The server could not be reached; try again.");
    }
  }

  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => {
      setSaved(false);
      setForm({ ...form, [key]: e.target.value });
    },
    "aria-describedby": error ? ids.error : undefined,
  });
  const zones = timeZones();

  return (
    <dialog
      ref={dialog}
      className="card dialog profile"
      aria-labelledby={ids.title}
      onClose={() => {
        setError(null);
        setSaved(false);
        onClose();
      }}
    >
      <form onSubmit={(e) => void save(e)}>
        <div className="row">
          <Avatar name={me} profile={profile} size="large" />
          <div>
            <h2 id={ids.title}>Your profile</h2>
            <p className="muted small">
              You sign in as <strong dir="auto">{me}</strong>; mentions use @{me}.
            </p>
          </div>
        </div>
        <label htmlFor={ids.name}>Display name</label>
        <input id={ids.name} ref={first} maxLength={32} autoComplete="nickname" placeholder={me} {...field("display_name")} />
        <label htmlFor={ids.emoji}>Status emoji</label>
        <input id={ids.emoji} maxLength={16} autoComplete="off" placeholder="🌴" {...field("status_emoji")} />
        <label htmlFor={ids.status}>Status</label>
        <input id={ids.status} maxLength={100} autoComplete="off" placeholder="On leave until Monday" {...field("status_text")} />
        <label htmlFor={ids.zone}>Time zone</label>
        <select id={ids.zone} {...field("time_zone")}>
          <option value="">Not set</option>
          {zones.map((zone) => (
            <option key={zone} value={zone}>
              {zone}
            </option>
          ))}
        </select>
        {error && (
          <p id={ids.error} className="error" role="alert">
            {error}
          </p>
        )}
        <p className="muted small" role="status">
          {saved ? "Saved: everyone sees it now." : ""}
        </p>
        <div className="row end">
          <button type="button" className="link" onClick={onClose}>
            Close
          </button>
          <button type="submit">Save</button>
        </div>
      </form>
    </dialog>
  );
}
