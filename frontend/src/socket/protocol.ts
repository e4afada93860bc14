// Frames of the JSON chat protocol: see docs/protocol.md.

export interface ChatMessage {
  type: "message";
  room: string;
  seq: number;
  id: string;
  author: string;
  body: string;
  ts: number;
  client_msg_id: string | null;
  client_id: number | null;
}

export type ServerFrame =
  | { type: "hello"; user: string; default_room: string; max_message_bytes: number }
  | {
      type: "joined";
      room: string;
      head: number;
      from: number;
      truncated: boolean;
      users: string[];
    }
  | ChatMessage
  | {
      type: "ack";
      room: string;
      client_msg_id: string | null;
      seq: number;
      id: string;
      ts: number;
      duplicate: boolean;
    }
  | { type: "presence"; room: string; users: string[]; joined: string[]; left: string[] }
  | { type: "typing"; room: string; user: string }
  | { type: "left"; room: string }
  | { type: "room_created"; room: string }
  | {
      type: "error";
      code: string;
      message: string;
      ref?: string | null;
      retry_after?: number;
    };

export type ClientFrame =
  | { type: "join"; room: string; after?: number }
  | { type: "leave"; room: string }
  | { type: "send"; room: string; body: string; client_msg_id: string }
  | { type: "typing"; room: string };

/** Close codes after which reconnecting cannot help: the user or the operator must act. */
export const TERMINAL_CLOSE_CODES = new Set([1003, 4401, 4403, 4429]);

export function describeClose(code: number, reason: string): string {
  switch (code) {
    case 4401:
      return reason === "logged out"
        ? "You were logged out."
        : `Your session was refused: ${reason || "log in again"}.`;
    case 4403:
      return "This page's address is not allowed to connect to the chat server (HUBBUB_ALLOWED_ORIGINS).";
    case 4408:
      return "The connection fell behind; catching up.";
    case 4429:
      return "Too many open chat tabs for this user. Close one and reload.";
    case 1009:
      return "A message was too large for the server.";
    case 1001:
    case 1012:
      return "The server is restarting.";
    default:
      return reason ? `Connection lost: ${reason}` : "Connection lost.";
  }
}
