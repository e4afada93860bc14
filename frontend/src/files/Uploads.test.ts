import { describe, expect, it } from "vitest";

import { Outbox, type OutboxEnvironment } from "../composer/Outbox";
import type { ClientFrame } from "../socket/protocol";
import { FakeUploads, settled } from "../test-data/fakeUploads";
import { Uploads } from "./Uploads";

class Env extends FakeUploads implements OutboxEnvironment {
  saved: string | null = null;
  loadOutbox(): string | null {
    return this.saved;
  }
  saveOutbox(value: string): void {
    this.saved = value;
  }
}

function parts(env = new Env()) {
  const sent: ClientFrame[] = [];
  const link = { up: true, joined: () => link.up, send: (frame: ClientFrame) => link.up && sent.push(frame) > 0 };
  const outbox = new Outbox(env, link, () => undefined);
  const uploads = new Uploads(env, outbox, () => undefined);
  return { env, link, sent, outbox, uploads };
}

const blob = (text: string) => new Blob([text]);

function attach(env: Env, uploads: Uploads, ...names: string[]) {
  return names.map((name) => {
    const key = env.newId();
    uploads.add(key, blob(name.repeat(10)));
    return { key, name, size: name.length * 10, file: null };
  });
}

describe("Uploads", () => {
  it("uploads a message's files one at a time, with progress, then the message goes with them", async () => {
    const { env, sent, outbox, uploads } = parts();
    uploads.setOnline(true);
    outbox.send("general", "two files", null, attach(env, uploads, "a.txt", "b.txt"));
    uploads.kick();
    expect(sent).toEqual([]); // not before its files
    expect(env.uploads.map((u) => u.name)).toEqual(["a.txt"]);
    env.last.onProgress(25, 100);
    expect(uploads.progress).toEqual({ [outbox.items[0]!.attachments![0]!.key]: 0.25 });
    const a = env.last.succeed("f1");
    await settled();
    expect(env.uploads.map((u) => u.name)).toEqual(["a.txt", "b.txt"]);
    expect(sent).toEqual([]);
    const b = env.last.succeed("f2");
    await settled();
    expect(sent).toEqual([
      { type: "send", room: "general", body: "two files", client_msg_id: outbox.items[0]!.clientMsgId, files: [a.id, b.id] },
    ]);
    expect(uploads.progress).toEqual({});
  });

  it("waits while offline, and after a network failure until the connection is back or a while passes", async () => {
    const { env, outbox, uploads } = parts();
    outbox.send("general", "", null, attach(env, uploads, "offline.png"));
    uploads.kick();
    expect(env.uploads).toEqual([]); // offline: waits in the outbox
    uploads.setOnline(true);
    expect(env.uploads).toHaveLength(1);
    env.last.fail(0, "the network failed");
    await settled();
    expect(outbox.items[0]!.failed).toBeNull();
    env.advance(4999);
    expect(env.uploads).toHaveLength(1);
    env.advance(1);
    expect(env.uploads).toHaveLength(2);
    env.last.fail(503, "file storage unavailable");
    await settled();
    uploads.setOnline(false);
    uploads.setOnline(true); // reconnected: at once
    expect(env.uploads).toHaveLength(3);
    env.last.succeed();
    await settled();
    expect(outbox.items[0]!.attachments![0]!.file).not.toBeNull();
  });

  it("fails the message when the server refuses a file, and tries again on retry", async () => {
    const { env, outbox, uploads } = parts();
    uploads.setOnline(true);
    outbox.send("general", "big one", null, attach(env, uploads, "huge.bin"));
    outbox.send("general", "next", null, attach(env, uploads, "small.txt"));
    uploads.kick();
    env.last.fail(413, "a file may have at most 25 bytes (HUBBUB_MAX_UPLOAD_BYTES)");
    await settled();
    expect(outbox.items[0]!.failed).toBe("Could not upload huge.bin: a file may have at most 25 bytes (HUBBUB_MAX_UPLOAD_BYTES)");
    expect(env.last.name).toBe("small.txt"); // the next message's files go on
    outbox.retry(outbox.items[0]!.clientMsgId);
    env.last.succeed();
    await settled();
    expect(env.last.name).toBe("huge.bin");
  });

  it("cancels: the upload stops, its bytes are forgotten, and a message with nothing left goes", () => {
    const { env, outbox, uploads } = parts();
    uploads.setOnline(true);
    const files = attach(env, uploads, "one.txt", "two.txt");
    const id = outbox.send("general", "", null, files);
    uploads.kick();
    const first = env.last;
    expect(outbox.removeAttachment(id, files[0]!.key)).toBe(false);
    uploads.cancel(files[0]!.key);
    expect(first.aborted).toBe(true);
    expect(env.stored.has(files[0]!.key)).toBe(false);
    expect(env.last.name).toBe("two.txt");
    expect(outbox.removeAttachment(id, files[1]!.key)).toBe(true);
    uploads.cancel(files[1]!.key);
    expect(outbox.items).toEqual([]);
  });

  it("finds the bytes of a file after a reload in the browser's storage", async () => {
    const env = new Env();
    const before = parts(env);
    before.outbox.send("general", "", null, attach(env, before.uploads, "kept.png"));
    // A new page: the outbox from storage, the bytes from the blob store.
    const after = parts(env);
    after.outbox.restore();
    after.uploads.setOnline(true);
    await settled();
    expect(env.last.name).toBe("kept.png");
    expect(env.last.blob).toBe([...env.stored.values()][0]);
    expect(env.last.blob.size).toBe(80);
  });

  it("fails a file whose bytes the browser lost", async () => {
    const env = new Env();
    const before = parts(env);
    before.outbox.send("general", "", null, attach(env, before.uploads, "lost.png"));
    env.stored.clear();
    const after = parts(env);
    after.outbox.restore();
    after.uploads.setOnline(true);
    await settled();
    expect(after.outbox.items[0]!.failed).toBe("lost.png is no longer in this browser: attach it again.");
  });
});
