// Frames of the JSON chat protocol (docs/protocol.md). The shapes are generated from the
// server's models (src/contract/schema.gen.ts, `scripts/gen-contract`); these are their names here.
import { CloseCode, TerminalCloseCode, type components } from "../contract/schema.gen";

type Schemas = components["schemas"];

export type ChatMessage = Schemas["MessageEvent"];
export type FileRef = Schemas["FileRef"];
export type ServerFrame = Schemas["ServerEvent"];
export type ClientFrame = Schemas["ClientCommand"];
export type ErrorCode = Schemas["ErrorEvent"]["code"];
export { CloseCode };

/** Close codes after which reconnecting cannot help: the user or the operator must act. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set(
  Object.values(TerminalCloseCode).filter((value) => typeof value === "number"),
);

const CLOSE_CODES: ReadonlySet<unknown> = new Set(Object.values(CloseCode));

/** Any number may arrive as a close code (a proxy's, the browser's own 1006). */
export function isCloseCode(code: number): code is CloseCode {
  return CLOSE_CODES.has(code);
}

export function describeClose(code: number, reason: string): string {
  if (!isCloseCode(code)) return reason ? `Connection lost: ${reason}` : "Connection lost.";
  switch (code) {
    case CloseCode.UNAUTHORIZED:
      return reason === "logged out"
        ? "You were logged out."
        : `Your session was refused: ${reason || "log in again"}.`;
    case CloseCode.FORBIDDEN_ORIGIN:
      return "This page's address is not allowed to connect to the chat server (HUBBUB_ALLOWED_ORIGINS).";
    case CloseCode.SLOW_CONSUMER:
      return "The connection fell behind; catching up.";
    case CloseCode.TOO_MANY_CONNECTIONS:
      return "Too many open chat tabs for this user. Close one and reload.";
    case CloseCode.MESSAGE_TOO_BIG:
      return "A message was too large for the server.";
    case CloseCode.GOING_AWAY:
    case CloseCode.SERVICE_RESTART:
      return "The server is restarting.";
    case CloseCode.UNSUPPORTED_DATA:
    case CloseCode.INVALID_DATA:
    case CloseCode.POLICY_VIOLATION:
    case CloseCode.INTERNAL_ERROR:
    case CloseCode.NORMAL:
      return reason ? `Connection lost: ${reason}` : "Connection lost.";
  }
}
