import { avatarColour, initials, shownName, type Profile } from "./People";
import { usePerson } from "./usePeople";

/** Someone's display name (their login name on hover), marked when deactivated. */
export function PersonName({ name, className }: { name: string; className?: string }) {
  const profile = usePerson(name);
  return (
    <span className={className} dir="auto" title={`@${name}`}>
      {shownName(name, profile)}
      {profile?.deactivated && <span className="muted"> (deactivated)</span>}
    </span>
  );
}

/** Initials on a colour from the login name, or the uploaded image. Decorative: the name is
 * always written beside it. */
export function Avatar({ name, profile, size = "small" }: { name: string; profile: Profile | undefined; size?: "small" | "large" }) {
  const shown = shownName(name, profile);
  if (profile?.avatar_url) {
    return <img className={`avatar ${size}`} src={profile.avatar_url} alt="" aria-hidden="true" />;
  }
  return (
    <span className={`avatar ${size}`} aria-hidden="true" style={{ backgroundColor: avatarColour(name) }}>
      {initials(shown)}
    </span>
  );
}

/** A status line (its emoji and words) and the time where they are, for a member list. */
export function Status({ profile }: { profile: Profile | undefined }) {
  if (!profile) return null;
  const local = localTime(profile.time_zone);
  return (
    <>
      {(profile.status_emoji || profile.status_text) && (
        <span className="status" dir="auto">
          {profile.status_emoji} {profile.status_text}
        </span>
      )}
      {local && <span className="status">{local} their time</span>}
    </>
  );
}

function localTime(zone: string): string | null {
  if (!zone) return null;
  try {
    return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(new Date());
  } catch {
    return null; // a zone this browser does not know
  }
}
