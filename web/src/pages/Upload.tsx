import { useClient, useQuery } from "@urql/preact";
import { useRef, useState } from "preact/hooks";
import { bytes } from "../format";
import { FoldersQuery } from "../ops";
import { Link } from "../router";
import { addUploads, cancelUpload, retryUpload, useUploads } from "../uploads";

export function Upload() {
  const items = useUploads();
  const [dragging, setDragging] = useState(false);
  const [tags, setTags] = useState({ parentId: "", nodeId: "", jobId: "", workflowId: "" });
  const [folders] = useQuery({ query: FoldersQuery });
  const input = useRef<HTMLInputElement>(null);
  const client = useClient();

  function add(files: FileList | File[] | null) {
    if (!files || !files.length) return;
    addUploads(client, [...files], {
      parentId: tags.parentId || null,
      nodeId: tags.nodeId.trim() || null,
      jobId: tags.jobId.trim() || null,
      workflowId: tags.workflowId.trim() || null,
    });
  }

  const done = items.filter((i) => i.state === "done").length;
  return (
    <main id="main" tabIndex={-1} class="page">
      <div class="page-head">
        <h1>Upload</h1>
        {items.length > 0 && (
          <p class="count" aria-live="polite">
            {done} of {items.length} uploaded
          </p>
        )}
      </div>
      <form class="filters upload-tags" aria-label="Upload settings" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="field-folder">Folder</label>
          <select id="field-folder" value={tags.parentId} onChange={(e) => setTags({ ...tags, parentId: e.currentTarget.value })}>
            <option value="">No folder</option>
            {folders.data?.assets.nodes.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </div>
        {(
          [
            ["workflowId", "Workflow id"],
            ["jobId", "Job id"],
            ["nodeId", "Node id"],
          ] as const
        ).map(([name, label]) => (
          <div class="field" key={name}>
            <label for={`field-${name}`}>{label}</label>
            <input id={`field-${name}`} value={tags[name]} placeholder="Optional" onInput={(e) => setTags({ ...tags, [name]: e.currentTarget.value })} />
          </div>
        ))}
      </form>
      <div
        class={dragging ? "dropzone dragging" : "dropzone"}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          add(e.dataTransfer?.files ?? null);
        }}
      >
        <p>Drop files here</p>
        <p class="muted">or</p>
        <button type="button" class="primary" onClick={() => input.current?.click()}>
          Choose files
        </button>
        <input
          ref={input}
          id="file-input"
          type="file"
          multiple
          class="visually-hidden"
          aria-label="Choose files to upload"
          onChange={(e) => {
            add(e.currentTarget.files);
            e.currentTarget.value = "";
          }}
        />
      </div>
      {items.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {items.map((item) => (
            <li key={item.key} class={`upload upload-${item.state}`} data-state={item.state}>
              <span class="upload-name">
                {item.asset ? <Link href={`/asset/${encodeURIComponent(item.asset.id)}`}>{item.asset.name}</Link> : item.file.name}
              </span>
              <progress max={item.file.size || 1} value={item.state === "done" ? item.file.size || 1 : item.loaded} aria-label={`Progress of ${item.file.name}`} />
              <span class="upload-state">
                {item.state === "uploading" && `${bytes(item.loaded)} of ${bytes(item.file.size)}`}
                {item.state === "waiting" && "Waiting"}
                {item.state === "done" && "Done"}
                {(item.state === "uploading" || item.state === "waiting") && (
                  <>
                    {" "}
                    <button type="button" class="link" onClick={() => cancelUpload(item)} aria-label={`Cancel ${item.file.name}`}>
                      Cancel
                    </button>
                  </>
                )}
                {(item.state === "failed" || item.state === "cancelled") && (
                  <>
                    <span class={item.state === "failed" ? "error" : "muted"}>{item.state === "failed" ? item.error : "Cancelled"}</span>{" "}
                    <button type="button" class="link" onClick={() => retryUpload(client, item)} aria-label={`Retry ${item.file.name}`}>
                      Retry
                    </button>
                  </>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
