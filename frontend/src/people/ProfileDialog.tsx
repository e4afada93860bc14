import { useEffect, useId, useLayoutEffect, useRef, useState, type SyntheticEvent } from "react";

import { api, ApiError } from "../api";
import type { PeopleDirectory } from "./People";
import { Avatar } from "./PersonName";

interface Form {
  display_name: string;
  status_emoji: string;
  status_text: string;
  time_zone: string;
}

const EMPTY: Form = { display_name: "", status_emoji: "", status_text: "", time_zone: "" };

function formOf(profile: Form): Form {
  const { display_name, status_emoji, status_text, time_zone } = profile;
  return { display_name, status_emoji, status_text, time_zone };
}

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
  const ids = {
    title: useId(),
    name: useId(),
    emoji: useId(),
    status: useId(),
    zone: useId(),
    picture: useId(),
    error: useId(),
  };
  const picker = useRef<HTMLInputElement>(null);
  const [picturing, setPicturing] = useState(false);
  // The profile as loaded, and what the user typed over it: typing before it arrives is kept,
  // and Save waits for it (else it would clear the fields not filled in yet).
  const [found, setFound] = useState<Form | null>(null);
  const [typed, setTyped] = useState<Partial<Form>>({});
  const form: Form = { ...(found ?? EMPTY), ...typed };
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
    let current = true;
    void api.profile(me).then(
      (loaded) => {
        if (!current) return;
        people.apply(loaded);
        setFound(formOf(loaded));
      },
      () => {
        if (current) setError("Your profile could not be loaded: close this and try again.");
      },
    );
    return () => {
      current = false;
    };
  }, [open, me, people]);

  async function save(event: SyntheticEvent) {
    event.preventDefault();
    try {
      const now = await api.updateProfile(form);
      people.apply(now);
      setFound(formOf(now));
      setTyped({});
      setError(null);
      setSaved(true);
    } catch (caught) {
      setSaved(false);
      setError(caught instanceof ApiError ? caught.message : "The server could not be reached; try again.");
    }
  }

  /** A picture is saved as soon as it is picked (or removed): it is not part of the form. */
  async function changePicture(image: File | null) {
    setPicturing(true);
    setSaved(false);
    try {
      const now = image ? await api.setAvatar(image) : await api.removeAvatar();
      people.apply(now);
      setError(null);
      setSaved(true);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "The server could not be reached; try again.");
    } finally {
      setPicturing(false);
      if (picker.current) picker.current.value = "";
    }
  }

  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => {
      setSaved(false);
      const value = e.target.value;
      setTyped((before) => ({ ...before, [key]: value }));
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
        setFound(null);
        setTyped({});
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
        <label htmlFor={ids.picture}>Picture</label>
        <div className="row">
          <input
            id={ids.picture}
            ref={picker}
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            disabled={picturing}
            aria-describedby={error ? ids.error : undefined}
            onChange={(e) => {
              const image = e.target.files?.[0];
              if (image) void changePicture(image);
            }}
          />
          {profile?.avatar_url && (
            <button type="button" className="link" disabled={picturing} onClick={() => void changePicture(null)}>
              Remove picture
            </button>
          )}
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
          <button type="submit" disabled={found === null}>
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}
