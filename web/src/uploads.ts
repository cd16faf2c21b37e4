// The upload list outlives the Upload page: leave it mid-upload and the files keep going,
// come back and their rows are there. Closing the tab while files are in flight asks first
// (what was not completed would wait on the server until its upload expires).
import type { Client } from "@urql/core";
import { useEffect, useState } from "preact/hooks";
import { type UploadError, type UploadResult, type UploadTarget, uploadFile } from "./upload";

export interface UploadItem {
  key: number;
  file: File;
  // The folder and ids chosen when the file was added, whatever the form says later.
  target: UploadTarget;
  loaded: number;
  state: "waiting" | "uploading" | "done" | "failed" | "cancelled";
  error?: string;
  asset?: UploadResult;
  stop?: AbortController;
}

// Files in flight at once; each sends up to three parts at a time (upload.ts).
const PARALLEL = 2;

let items: UploadItem[] = [];
let running = 0;
let nextKey = 0;
const listeners = new Set<() => void>();

function publish(next: UploadItem[]): void {
  items = next;
  for (const listener of listeners) listener();
}

function patch(key: number, change: Partial<UploadItem>): void {
  publish(items.map((i) => (i.key === key ? { ...i, ...change } : i)));
}

function pump(client: Client): void {
  while (running < PARALLEL) {
    // Oldest first (the list shows the newest on top).
    const item = items.filter((i) => i.state === "waiting").sort((a, b) => a.key - b.key)[0];
    if (!item) return;
    running++;
    const stop = new AbortController();
    patch(item.key, { state: "uploading", stop, loaded: 0, error: undefined });
    uploadFile(client, item.file, item.target, (loaded) => patch(item.key, { loaded }), stop.signal)
      .then((asset) => patch(item.key, { state: "done", loaded: item.file.size, asset, stop: undefined }))
      .catch((error: UploadError) =>
        patch(item.key, error.cancelled ? { state: "cancelled", stop: undefined } : { state: "failed", error: error.message, stop: undefined }),
      )
      .finally(() => {
        running--;
        pump(client);
      });
  }
}

export function addUploads(client: Client, files: File[], target: UploadTarget): void {
  const added = files.map((file): UploadItem => ({ key: nextKey++, file, target, loaded: 0, state: "waiting" }));
  publish([...added, ...items]);
  pump(client);
}

export function cancelUpload(item: UploadItem): void {
  if (item.state === "waiting") patch(item.key, { state: "cancelled" });
  else item.stop?.abort();
}

export function retryUpload(client: Client, item: UploadItem): void {
  patch(item.key, { state: "waiting", loaded: 0, error: undefined });
  pump(client);
}

export function useUploads(): UploadItem[] {
  const [, rerender] = useState(0);
  useEffect(() => {
    const listener = () => rerender((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return items;
}

addEventListener("beforeunload", (event) => {
  if (items.some((i) => i.state === "uploading" || i.state === "waiting")) event.preventDefault();
});
