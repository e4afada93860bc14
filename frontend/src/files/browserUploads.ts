import type { FileRef } from "../socket/protocol";
import { UploadError, type UploadEnvironment } from "./Uploads";

/** Uploads over XMLHttpRequest (fetch cannot tell how much of a body is sent yet), and the
 * bytes of waiting files in IndexedDB, per server and user, so that a reload finds them. */
export function browserUploads(user: string): Pick<UploadEnvironment, "upload" | "saveBlob" | "loadBlob" | "deleteBlob"> {
  const blobs = new BlobStore(`hubbub.files.${window.location.host}.${user}`);
  return {
    upload: (room, blob, name, onProgress) => {
      const request = new XMLHttpRequest();
      const done = new Promise<FileRef>((resolve, reject) => {
        request.upload.onprogress = (event) => {
          onProgress(event.loaded, event.lengthComputable ? event.total : blob.size);
        };
        request.onload = () => {
          if (request.status === 201) {
            resolve(JSON.parse(request.responseText) as FileRef);
            return;
          }
          reject(new UploadError(request.status, detailOf(request)));
        };
        request.onerror = () => {
          reject(new UploadError(0, "the network failed"));
        };
        request.onabort = () => {
          reject(new UploadError(0, "cancelled"));
        };
      });
      const form = new FormData();
      form.append("file", blob, name);
      request.open("POST", `/api/rooms/${encodeURIComponent(room)}/files`);
      request.send(form);
      return {
        done,
        abort: () => {
          request.abort();
        },
      };
    },
    saveBlob: (key, blob) => blobs.put(key, blob),
    loadBlob: (key) => blobs.get(key),
    deleteBlob: (key) => blobs.delete(key),
  };
}

function detailOf(request: XMLHttpRequest): string {
  try {
    const body = JSON.parse(request.responseText) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
  } catch {
    // not JSON: the status says it
  }
  return request.status === 413 ? "the file is too large" : `the server answered ${request.status}`;
}

/** A key-value store of blobs in IndexedDB; where IndexedDB is off, they live in memory. */
class BlobStore {
  private readonly opened: Promise<IDBDatabase | null>;

  constructor(name: string) {
    this.opened = new Promise((resolve) => {
      try {
        const request = indexedDB.open(name, 1);
        request.onupgradeneeded = () => {
          request.result.createObjectStore("blobs");
        };
        request.onsuccess = () => {
          resolve(request.result);
        };
        request.onerror = () => {
          resolve(null);
        };
      } catch {
        resolve(null);
      }
    });
  }

  private async run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest): Promise<T | null> {
    const db = await this.opened;
    if (!db) return null;
    return new Promise((resolve) => {
      const request = work(db.transaction("blobs", mode).objectStore("blobs"));
      request.onsuccess = () => {
        resolve((request.result as T | undefined) ?? null);
      };
      request.onerror = () => {
        resolve(null);
      };
    });
  }

  async put(key: string, blob: Blob): Promise<void> {
    await this.run("readwrite", (store) => store.put(blob, key));
  }

  get(key: string): Promise<Blob | null> {
    return this.run<Blob>("readonly", (store) => store.get(key));
  }

  async delete(key: string): Promise<void> {
    await this.run("readwrite", (store) => store.delete(key));
  }
}
