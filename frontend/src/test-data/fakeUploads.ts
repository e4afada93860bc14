import { UploadError, type UploadEnvironment } from "../files/Uploads";
import type { FileRef } from "../socket/protocol";
import { FakeClock } from "./fakeClock";

/** One upload the test answers: with progress, a file, or an error. */
export class FakeUpload {
  aborted = false;
  private resolve: (file: FileRef) => void = () => undefined;
  private reject: (error: Error) => void = () => undefined;
  readonly done: Promise<FileRef>;

  constructor(
    readonly room: string,
    readonly blob: Blob,
    readonly name: string,
    readonly onProgress: (sent: number, total: number) => void,
  ) {
    this.done = new Promise<FileRef>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  succeed(id = `file-${this.name}`): FileRef {
    const file: FileRef = { id, name: this.name, size: this.blob.size, type: "text/plain", width: null, height: null };
    this.resolve(file);
    return file;
  }

  fail(status: number, message: string): void {
    this.reject(new UploadError(status, message));
  }
}

/** Uploads and a blob store that do what a test says, on a clock it moves. */
export class FakeUploads extends FakeClock implements UploadEnvironment {
  uploads: FakeUpload[] = [];
  stored = new Map<string, Blob>();

  upload(room: string, blob: Blob, name: string, onProgress: (sent: number, total: number) => void) {
    const made = new FakeUpload(room, blob, name, onProgress);
    this.uploads.push(made);
    return {
      done: made.done,
      abort: () => {
        made.aborted = true;
      },
    };
  }
  saveBlob(key: string, blob: Blob): Promise<void> {
    this.stored.set(key, blob);
    return Promise.resolve();
  }
  loadBlob(key: string): Promise<Blob | null> {
    return Promise.resolve(this.stored.get(key) ?? null);
  }
  deleteBlob(key: string): Promise<void> {
    this.stored.delete(key);
    return Promise.resolve();
  }
  get last(): FakeUpload {
    const upload = this.uploads[this.uploads.length - 1];
    if (!upload) throw new Error("no upload yet");
    return upload;
  }
}

/** Let promises settle (an upload's answer reaches its part). */
export async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
