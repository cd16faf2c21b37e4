import { useClient, useQuery } from "@urql/preact";
import { useRef, useState } from "preact/hooks";
import { bytes } from "../format";
import { FoldersQuery } from "../ops";
import { Link } from "../router";
import { UploadError, uploadFile, type UploadResult } from "../upload";

interface Item {
  key: number;
  file: File;
  loaded: number;
  state: "waiting" | "uploading" | "done" | "failed" | "cancelled";
  error?: string;
  asset?: UploadResult;
  stop?: AbortController;
}

// Files in flight at once; each sends up to three parts at a time (upload.ts).
const PARALLEL = 2;
let nextKey = 0;

export function Upload() {
  const [items, setItems] = useState<Item[]>([]);
  const [dragging, setDragging] = useState(false);
  const [tags, setTags] = useState({ parentId: "", nodeId: "", jobId: "", workflowId: "" });
  const [folders] = useQuery({ query: FoldersQuery });
  const input = useRef<HTMLInputElement>(null);
  const queue = useRef<Item[]>([]);
  const running = useRef(0);
  const client = useClient();

  const patch = (key: number, change: Partial<Item>) => setItems((list) => list.map((i) => (i.key === key ? { ...i, ...change } : i)));

  function pump(settings: typeof tags) {
    while (running.current < PARALLEL && queue.current.length) {
      const item = queue.current.shift()!;
      running.current++;
      const stop = new AbortController();
      patch(item.key, { state: "uploading", stop });
      uploadFile(
        client,
        item.file,
        {
          parentId: settings.parentId || null,
          nodeId: settings.nodeId.trim() || null,
          jobId: settings.jobId.trim() || null,
          workflowId: settings.workflowId.trim() || null,
        },
        (loaded) => patch(item.key, { loaded }),
        stop.signal,
      )
        .then((asset) => patch(item.key, { state: "done", loaded: item.file.size, asset, stop: undefined }))
        .catch((error: UploadError) =>
          patch(item.key, error.cancelled ? { state: "cancelled", stop: undefined } : { state: "failed", error: error.message, stop: undefined }),
        )
        .finally(() => {
          running.current--;
          pump(settings);
        });
    }
  }

  function add(files: FileList | File[] | null) {
    if (!files || !files.length) return;
    const added = [...files].map((file): Item => ({ key: nextKey++, file, loaded: 0, state: "waiting" }));
    setItems((list) => [...added, ...list]);
    queue.current.push(...added);
    pump(tags);
  }

  function cancel(item: Item) {
    if (item.state === "waiting") {
      queue.current = queue.current.filter((i) => i.key !== item.key);
      patch(item.key, { state: "cancelled" });
    } else item.stop?.abort();
  }

  function retry(item: Item) {
    patch(item.key, { state: "waiting", loaded: 0, error: undefined });
    queue.current.push(item);
    pump(tags);
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
                    <button type="button" class="link" onClick={() => cancel(item)} aria-label={`Cancel ${item.file.name}`}>
                      Cancel
                    </button>
                  </>
                )}
                {(item.state === "failed" || item.state === "cancelled") && (
                  <>
                    <span class={item.state === "failed" ? "error" : "muted"}>{item.state === "failed" ? item.error : "Cancelled"}</span>{" "}
                    <button type="button" class="link" onClick={() => retry(item)} aria-label={`Retry ${item.file.name}`}>
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
