import type { Attachment, WaitingUpload } from "../composer/Outbox";
import type { FileRef } from "../socket/protocol";

/**
 * The files of messages waiting in the outbox, on their way to the server: one upload at a
 * time, in the order the messages were written, each with its progress. Their bytes wait in
 * the browser (memory, and browser storage across reloads) under the attachment's key until
 * the message is sent or discarded. An upload the network interrupts (offline, a server
 * restarting) waits for the next connection, or RETRY_MS; one the server refuses (too large,
 * over the quota, no longer a member) fails its message, saying why.
 */

/** An upload the server answered with an error; status 0: the network failed. */
export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface UploadEnvironment {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** POST /api/rooms/{room}/files with the blob as field `file`. */
  upload(
    room: string,
    blob: Blob,
    name: string,
    onProgress: (sent: number, total: number) => void,
  ): { done: Promise<FileRef>; abort(): void };
  /** Where the bytes wait across reloads (the browser's IndexedDB); may lose them. */
  saveBlob(key: string, blob: Blob): Promise<void>;
  loadBlob(key: string): Promise<Blob | null>;
  deleteBlob(key: string): Promise<void>;
}

/** What the uploads need of the outbox. */
export interface UploadTarget {
  waitingUploads(): WaitingUpload[];
  uploaded(clientMsgId: string, key: string, file: FileRef): void;
  uploadFailed(clientMsgId: string, reason: string): void;
}

/** How far each upload is: bytes sent over bytes in all, by attachment key. */
export type UploadProgress = Readonly<Record<string, number>>;

const RETRY_MS = 5000;
const TRANSIENT = new Set([0, 408, 425, 429, 500, 502, 503, 504]);

export class Uploads {
  private readonly blobs = new Map<string, Blob>();
  private current: { key: string; abort: () => void } | null = null;
  private online = false;
  private retryTimer: unknown = null;
  private shown: UploadProgress = {};

  constructor(
    private readonly env: UploadEnvironment,
    private readonly target: UploadTarget,
    private readonly onChange: () => void,
  ) {}

  get progress(): UploadProgress {
    return this.shown;
  }

  /** The bytes of a new attachment: kept here, and in the browser's storage for a reload. */
  add(key: string, blob: Blob): void {
    this.blobs.set(key, blob);
    void this.env.saveBlob(key, blob).catch(() => undefined);
  }

  /** The connection is up (uploads may go) or down (they wait). */
  setOnline(online: boolean): void {
    this.online = online;
    if (online) this.kick();
  }

  /** Start the next upload, if one waits and none is on its way. */
  kick(): void {
    if (!this.online || this.current) return;
    const next = this.target.waitingUploads()[0];
    if (next) void this.start(next);
  }

  /** The user took the attachment off its message: stop its upload, forget its bytes. */
  cancel(key: string): void {
    if (this.current?.key === key) {
      this.current.abort();
      this.current = null;
    }
    this.forget(key);
    this.kick();
  }

  /** The message was sent or discarded: its bytes are no longer needed here. */
  forget(key: string): void {
    this.blobs.delete(key);
    void this.env.deleteBlob(key).catch(() => undefined);
    if (key in this.shown) this.setProgress(key, null);
  }

  stop(): void {
    this.current?.abort();
    this.current = null;
    this.env.clearTimeout(this.retryTimer);
  }

  private async start({ clientMsgId, room, attachment }: WaitingUpload): Promise<void> {
    const { key } = attachment;
    const aborted = { value: false };
    // Read through a call: the upload may be cancelled while this waits.
    const cancelled = (): boolean => aborted.value;
    this.current = {
      key,
      abort: () => {
        aborted.value = true;
      },
    };
    const blob = this.blobs.get(key) ?? (await this.env.loadBlob(key).catch(() => null));
    if (cancelled()) return;
    if (!blob) {
      this.current = null;
      this.target.uploadFailed(clientMsgId, `${attachment.name} is no longer in this browser: attach it again.`);
      this.kick();
      return;
    }
    this.blobs.set(key, blob);
    const sending = this.env.upload(room, blob, attachment.name, (sent, total) => {
      if (!cancelled()) this.setProgress(key, total > 0 ? sent / total : 1);
    });
    this.current = {
      key,
      abort: () => {
        aborted.value = true;
        sending.abort();
      },
    };
    this.setProgress(key, 0);
    try {
      const file = await sending.done;
      if (cancelled()) return;
      this.current = null;
      this.setProgress(key, null);
      this.target.uploaded(clientMsgId, key, file);
      this.kick();
    } catch (error) {
      if (cancelled()) return;
      this.current = null;
      this.setProgress(key, null);
      const status = error instanceof UploadError ? error.status : 0;
      if (TRANSIENT.has(status)) {
        this.retryLater();
        return;
      }
      const why = error instanceof Error ? error.message : "refused";
      this.target.uploadFailed(clientMsgId, failure(attachment, why));
      this.kick();
    }
  }

  private retryLater(): void {
    this.env.clearTimeout(this.retryTimer);
    this.retryTimer = this.env.setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, RETRY_MS);
  }

  private setProgress(key: string, value: number | null): void {
    const others = Object.entries(this.shown).filter(([other]) => other !== key);
    this.shown = Object.fromEntries(value === null ? others : [...others, [key, value]]);
    this.onChange();
  }
}

function failure(attachment: Attachment, why: string): string {
  return `Could not upload ${attachment.name}: ${why}`;
}
