import { useMutation, useQuery } from "@urql/preact";
import { useState } from "preact/hooks";
import { Dialog, ErrorMessage } from "../components";
import { CreateFolderMutation, DeleteAssetMutation, FoldersQuery } from "../ops";
import { Link, withQuery } from "../router";

export function FolderList() {
  const [result] = useQuery({ query: FoldersQuery });
  const [name, setName] = useState("");
  const [parent, setParent] = useState("");
  const [created, create] = useMutation(CreateFolderMutation);
  const [deleted, remove] = useMutation(DeleteAssetMutation);
  const [doomed, setDoomed] = useState<{ id: string; name: string } | null>(null);
  const folders = result.data?.assets.nodes ?? [];
  const names = new Map(folders.map((f) => [f.id, f.name]));
  // Full paths, so that two folders of one name in different places can be told apart.
  const path = (id: string, seen = new Set<string>()): string => {
    const folder = folders.find((f) => f.id === id);
    if (!folder) return names.get(id) ?? id;
    if (!folder.parentId || seen.has(folder.parentId)) return folder.name;
    seen.add(id);
    return `${path(folder.parentId, seen)} / ${folder.name}`;
  };
  const sorted = [...folders].sort((a, b) => path(a.id).localeCompare(path(b.id)));
  return (
    <main id="main" tabIndex={-1} class="page">
      <div class="page-head">
        <h1>Folders</h1>
        <p class="count">{result.data ? `${folders.length} ${folders.length === 1 ? "folder" : "folders"}` : ""}</p>
      </div>
      <form
        class="filters"
        aria-label="New folder"
        onSubmit={async (e) => {
          e.preventDefault();
          const response = await create({ input: { name: name.trim(), parentId: parent || null } }, { additionalTypenames: ["Asset"] });
          if (!response.error) setName("");
        }}
      >
        <div class="field">
          <label for="field-new-folder-name">New folder name</label>
          <input id="field-new-folder-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </div>
        <div class="field">
          <label for="field-inside">Inside</label>
          <select id="field-inside" value={parent} onChange={(e) => setParent(e.currentTarget.value)}>
            <option value="">Top level</option>
            {sorted.map((f) => (
              <option key={f.id} value={f.id}>
                {path(f.id)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary" disabled={created.fetching}>
          Create folder
        </button>
      </form>
      {created.error && <ErrorMessage error={created.error} />}
      {result.error && <ErrorMessage error={result.error} />}
      {result.data && folders.length === 0 && <p class="empty">No folders yet.</p>}
      <ul class="folder-list">
        {sorted.map((f) => (
          <li key={f.id}>
            <Link href={withQuery("/", { folder: f.id })}>{path(f.id)}</Link>
            <button type="button" class="link danger" onClick={() => setDoomed({ id: f.id, name: f.name })} aria-label={`Delete folder ${path(f.id)}`}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <Dialog open={doomed !== null} title="Delete this folder?" onClose={() => setDoomed(null)}>
        <p>
          <strong>{doomed?.name}</strong> will be deleted with everything in it. This cannot be undone.
        </p>
        {deleted.error && <ErrorMessage error={deleted.error} />}
        <div class="dialog-buttons">
          <button type="button" onClick={() => setDoomed(null)}>
            Cancel
          </button>
          <button
            type="button"
            class="danger"
            onClick={async () => {
              if (!doomed) return;
              const response = await remove({ id: doomed.id }, { additionalTypenames: ["Asset"] });
              if (!response.error) setDoomed(null);
            }}
          >
            Delete folder
          </button>
        </div>
      </Dialog>
    </main>
  );
}
