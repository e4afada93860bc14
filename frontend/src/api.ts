// REST calls to the Hubbub server (docs/protocol.md).
import type { ChatMessage } from "./socket/protocol";

export type AuthMode = "none" | "token" | "jwt" | "password";

export interface ServerConfig {
  auth_mode: AuthMode;
  default_room: string;
  max_message_bytes: number;
  history_page_size: number;
  room_name_pattern: string;
  version: string;
}

export interface LoginForm {
  name?: string;
  token?: string;
  username?: string;
  password?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    ...init,
  });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = (await response.json()) as { detail?: unknown };
      if (typeof body.detail === "string") detail = body.detail;
      else if (Array.isArray(body.detail)) detail = "invalid input";
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, detail);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const api = {
  config: () => request<ServerConfig>("/api/config"),
  me: () => request<{ user: string }>("/api/me"),
  login: (form: LoginForm) => request<{ user: string }>("/api/login", { method: "POST", body: JSON.stringify(form) }),
  logout: () => request<undefined>("/api/logout", { method: "POST" }),
  rooms: () => request<{ name: string; head: number }[]>("/api/rooms"),
  createRoom: (name: string) =>
    request<{ name: string; created: boolean }>("/api/rooms", { method: "POST", body: JSON.stringify({ name }) }),
  history: (room: string, before: number, limit: number) =>
    request<{ messages: ChatMessage[]; has_more: boolean }>(
      `/api/rooms/${encodeURIComponent(room)}/messages?before=${before}&limit=${limit}`,
    ),
};

export function socketUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/api/ws`;
}
