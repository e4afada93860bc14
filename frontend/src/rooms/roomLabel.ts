import type { RoomMeta } from "./Directory";

/** How a room is named to a user: "# name", or a DM by the other people in it. */
export function roomLabel(room: RoomMeta | undefined, name: string, me: string): string {
  if (room?.visibility !== "dm") return `# ${name}`;
  const others = room.members.filter((member) => member !== me);
  return others.length > 0 ? others.join(", ") : me;
}
