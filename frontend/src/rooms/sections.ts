import type { RoomMeta } from "./Directory";
import { roomLabel } from "./roomLabel";

/**
 * The sidebar's sections: what has something unread first (from any room or DM, so nothing
 * waits two thousand pixels down), then the rooms the user is in, then direct messages. Public
 * rooms they are not in, and archived ones, are in Browse rooms instead; the room on screen is
 * always listed.
 */
export interface Sections {
  unread: RoomMeta[];
  rooms: RoomMeta[];
  direct: RoomMeta[];
}

export type SectionName = keyof Sections;

export const SECTION_TITLES: Record<SectionName, string> = {
  unread: "Unread",
  rooms: "Rooms",
  direct: "Direct messages",
};

/** Rooms the sidebar lists: the user's own (not archived), and the one on screen. */
function listedRooms(directory: Record<string, RoomMeta>, active: string, unknownActive: RoomMeta): RoomMeta[] {
  const rooms = Object.values(directory).filter((room) => (room.member && !room.archived) || room.name === active);
  if (!directory[active]) rooms.push(unknownActive);
  return rooms;
}

/**
 * `kept`: a room that was unread when it was opened stays in Unread while it is on screen, so
 * that the list does not move under the reader's pointer; `filter` keeps the rooms whose label
 * contains it (case- and accent-insensitive).
 */
export function sections(
  directory: Record<string, RoomMeta>,
  active: string,
  me: string,
  unknownActive: RoomMeta,
  kept: string | null = null,
  filter = "",
): Sections {
  const wanted = fold(filter.trim());
  const byLabel = (a: RoomMeta, b: RoomMeta) => roomLabel(a, a.name, me).localeCompare(roomLabel(b, b.name, me));
  const result: Sections = { unread: [], rooms: [], direct: [] };
  for (const room of listedRooms(directory, active, unknownActive)) {
    if (wanted && !fold(roomLabel(room, room.name, me)).includes(wanted)) continue;
    const unread = room.unread > 0 && (room.name !== active || room.name === kept);
    if (unread || room.name === kept) result.unread.push(room);
    else if (room.visibility === "dm") result.direct.push(room);
    else result.rooms.push(room);
  }
  result.unread.sort(byLabel);
  result.rooms.sort((a, b) => a.name.localeCompare(b.name));
  result.direct.sort(byLabel);
  return result;
}

/** Every listed room, in the order the sidebar shows them: for "previous/next room". */
export function order(listed: Sections): string[] {
  return [...listed.unread, ...listed.rooms, ...listed.direct].map((room) => room.name);
}

/** The room `step` places away from `active` (wrapping), among all or only the unread ones. */
export function neighbour(listed: Sections, active: string, step: 1 | -1, unreadOnly: boolean): string | null {
  const all = order(listed);
  const candidates = new Set(
    unreadOnly ? [...listed.unread, ...listed.rooms, ...listed.direct].filter((r) => r.unread > 0).map((r) => r.name) : all,
  );
  candidates.delete(active);
  if (candidates.size === 0) return null;
  const start = all.indexOf(active);
  for (let i = 1; i <= all.length; i++) {
    const name = all[(((start + step * i) % all.length) + all.length) % all.length];
    if (name !== undefined && candidates.has(name)) return name;
  }
  return null;
}

/** Lowercase, accents off: "Zoë" is found by "zoe". */
export function fold(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}
