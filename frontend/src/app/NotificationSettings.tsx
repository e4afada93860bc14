import { useSyncExternalStore } from "react";

import type { Notifier } from "../notifications";

/** Desktop notifications on or off (the browser asks for permission only on "on"), and sound. */
export function NotificationSettings({ notifier }: { notifier: Notifier }) {
  const settings = useSyncExternalStore(notifier.subscribe, notifier.getSnapshot);
  return (
    <div className="notify-settings">
      <button
        type="button"
        className="link"
        aria-pressed={settings.enabled}
        onClick={() => {
          if (settings.enabled) notifier.disable();
          else void notifier.enable();
        }}
      >
        Notifications {settings.enabled ? "on" : "off"}
      </button>
      {settings.enabled && (
        <button
          type="button"
          className="link"
          aria-pressed={settings.sound}
          onClick={() => {
            notifier.toggleSound();
          }}
        >
          Sound {settings.sound ? "on" : "off"}
        </button>
      )}
      {settings.enabled && (
        <button
          type="button"
          className="link"
          aria-pressed={settings.preview}
          title="Show who wrote what in notifications (anyone near the screen can read them)"
          onClick={() => {
            notifier.togglePreview();
          }}
        >
          Previews {settings.preview ? "on" : "off"}
        </button>
      )}
      {settings.problem && (
        <span className="error" role="alert">
          {settings.problem}
        </span>
      )}
    </div>
  );
}
