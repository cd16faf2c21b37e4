// Direct uploads: createUpload says where each part of the file goes (Trove's own signed part
// URLs on local storage, presigned bucket URLs on S3), the parts are PUT there a few at a time,
// and completeUpload records the asset (Trove checks the size and the declared SHA-256).
// The bytes never pass through the GraphQL endpoint. Parts go over XHR: fetch cannot report
// upload progress.
import type { Client, OperationResult } from "@urql/core";
import type { CompleteUploadMutation, CreateUploadMutation } from "./gql/graphql";
import { AbortUploadMutation, CompleteUploadMutation as Complete, CreateUploadMutation as Create } from "./ops";

export type UploadResult = CompleteUploadMutation["completeUpload"];
type Started = CreateUploadMutation["createUpload"];

export interface UploadTarget {
  parentId: string | null;
  nodeId: string | null;
  jobId: string | null;
  workflowId: string | null;
}

/** Parts of one file in flight at once (browsers allow six connections per origin). */
const PARALLEL_PARTS = 3;
/** Files up to this size are hashed first, so that completion verifies what arrived. */
const HASH_LIMIT = 64 << 20;

export class UploadError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly cancelled = false,
  ) {
    super(message);
  }
}

const cancelled = () => new UploadError("Cancelled", 0, true);

function failure(result: OperationResult): UploadError {
  const error = result.error!;
  if (error.networkError) return new UploadError("The upload failed: network error", 0);
  const status = (error.response as Response | undefined)?.status ?? 0;
  return new UploadError(error.graphQLErrors[0]?.message ?? error.message, status);
}

async function hex(file: File): Promise<string | null> {
  // crypto.subtle exists only in secure contexts (https, localhost); without it the upload
  // goes unverified rather than not at all.
  if (file.size > HASH_LIMIT || !globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The reason in a storage error body: Trove's JSON `error`, or S3's XML `<Message>`. */
function reason(xhr: XMLHttpRequest): string {
  const text = xhr.responseText ?? "";
  try {
    const body = JSON.parse(text);
    if (typeof body?.error === "string") return body.error;
  } catch {
    /* not JSON */
  }
  return /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? xhr.statusText;
}

class PartError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function putPart(
  url: string,
  headers: Record<string, string>,
  body: Blob,
  onProgress: (loaded: number) => void,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onerror = () => reject(new PartError("network error", 0));
    xhr.onabort = () => reject(cancelled());
    xhr.onload = () => {
      if (xhr.status < 200 || xhr.status >= 300) return reject(new PartError(`HTTP ${xhr.status}: ${reason(xhr)}`, xhr.status));
      const etag = xhr.getResponseHeader("ETag");
      // A bucket must expose ETag to the page in its CORS rules, or the part cannot be named.
      if (!etag) return reject(new PartError("storage did not show the part's ETag (the bucket's CORS rules must expose it)", xhr.status));
      onProgress(body.size);
      resolve(etag);
    };
    if (signal.aborted) return reject(cancelled());
    signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/** Upload one file; progress is the bytes sent over all its parts. */
export async function uploadFile(
  client: Client,
  file: File,
  target: UploadTarget,
  onProgress: (loaded: number) => void,
  signal: AbortSignal,
): Promise<UploadResult> {
  const sha256 = await hex(file);
  if (signal.aborted) throw cancelled();
  const created = await client
    .mutation(Create, { input: { name: file.name, size: file.size, contentType: file.type || null, sha256, ...target } }, { requestPolicy: "network-only" })
    .toPromise();
  if (!created.data) throw failure(created);
  const upload: Started = created.data.createUpload;
  // Whatever stops the upload (cancel, a part that keeps failing) stops every part in flight.
  const stop = new AbortController();
  const onCancel = () => stop.abort();
  signal.addEventListener("abort", onCancel, { once: true });
  if (signal.aborted) stop.abort(); // cancelled while createUpload was on its way
  try {
    const sent = upload.parts.map(() => 0);
    const etags: string[] = [];
    const count = upload.parts.length;
    let next = 0;
    const sendPart = async (index: number): Promise<void> => {
      const part = upload.parts[index];
      const start = (part.partNumber - 1) * upload.partSize;
      const body = file.slice(start, Math.min(start + upload.partSize, file.size));
      const headers = (part.headers ?? {}) as Record<string, string>;
      const progress = (loaded: number) => {
        sent[index] = loaded;
        onProgress(sent.reduce((a, b) => a + b, 0));
      };
      for (let attempt = 1; ; attempt++) {
        try {
          etags[index] = await putPart(part.url, headers, body, progress, stop.signal);
          return;
        } catch (error) {
          if (error instanceof UploadError) throw error; // cancelled
          progress(0);
          const { message } = error as PartError;
          if (attempt >= 2) throw new UploadError(`Part ${part.partNumber} of ${count} failed twice (${message}); the upload was abandoned`, (error as PartError).status);
        }
      }
    };
    const worker = async () => {
      while (next < count) await sendPart(next++);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, count) }, worker)).catch((error) => {
      stop.abort();
      throw error;
    });
    const parts = upload.parts.map((part, i) => ({ partNumber: part.partNumber, etag: etags[i] }));
    const completed = await client.mutation(Complete, { id: upload.id, parts }, { requestPolicy: "network-only", additionalTypenames: ["Asset"] }).toPromise();
    if (!completed.data) throw failure(completed);
    return completed.data.completeUpload;
  } catch (error) {
    // Nothing half-sent is left behind: the server drops the parts it holds.
    await client.mutation(AbortUploadMutation, { id: upload.id }).toPromise();
    throw signal.aborted ? cancelled() : error;
  } finally {
    signal.removeEventListener("abort", onCancel);
  }
}
