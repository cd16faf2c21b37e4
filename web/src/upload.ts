// Multipart createAsset (the GraphQL multipart request spec) over XHR: fetch cannot report
// upload progress. The preflight header satisfies the server's CSRF rule for multipart.
import { stringifyDocument } from "@urql/core";
import { authHeaders } from "./auth";
import type { CreateAssetInput, UploadAssetMutation } from "./gql/graphql";
import { UploadMutation } from "./ops";

export type UploadResult = UploadAssetMutation["createAsset"];

export class UploadError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function uploadFile(
  file: File,
  input: Omit<CreateAssetInput, "file">,
  token: string | null,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<UploadResult> {
  const operations = {
    operationName: "UploadAsset",
    query: stringifyDocument(UploadMutation),
    variables: { input: { ...input, file: null } },
  };
  const form = new FormData();
  form.append("operations", JSON.stringify(operations));
  form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
  form.append("0", file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/graphql");
    xhr.setRequestHeader("Apollo-Require-Preflight", "true");
    for (const [name, value] of Object.entries(authHeaders(token))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onerror = () => reject(new UploadError("The upload failed: network error", 0));
    xhr.onabort = () => reject(new UploadError("Cancelled", 0));
    xhr.onload = () => {
      let body: { data?: { createAsset?: UploadResult }; errors?: { message: string }[]; error?: string } = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: reported by status below */
      }
      const created = body.data?.createAsset;
      if (xhr.status === 200 && created) resolve(created);
      else reject(new UploadError(body.errors?.[0]?.message ?? body.error ?? `The upload failed (HTTP ${xhr.status})`, xhr.status));
    };
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}
