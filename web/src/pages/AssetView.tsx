import { useMutation, useQuery } from "@urql/preact";
import { useEffect, useState } from "preact/hooks";
import { Dialog, ErrorMessage, StatusBadge, browsing, useWorkflowNames } from "../components";
import { metadataFilterFor } from "../filters";
import { bytes, typeLabel, when } from "../format";
import type { CardFieldsFragment } from "../gql/graphql";
import { AssetQuery, DeleteAssetMutation, FoldersQuery, TagAssetMutation, TagChoicesQuery, UntagAssetMutation, UpdateAssetMutation } from "../ops";
import { Link, navigate, withQuery } from "../router";
import { Preview } from "./Preview";

function MetadataTree({ value, label, path = [] }: { value: unknown; label?: string; path?: (string | number)[] }) {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    const summary = Array.isArray(value) ? `[${value.length}]` : `{${entries.length}}`;
    const body = (
      <ul class="tree">
        {entries.map(([k, v]) => (
          <li key={k}>
            <MetadataTree value={v} label={String(k)} path={[...path, k]} />
          </li>
        ))}
      </ul>
    );
    if (label === undefined) return body;
    return (
      <details open={entries.length <= 8}>
        <summary>
          <span class="tree-key">{label}</span> <span class="tree-kind">{summary}</span>
        </summary>
        {body}
      </details>
    );
  }
  const text = JSON.stringify(value);
  const kind = `tree-value tree-${value === null ? "null" : typeof value}`;
  return (
    <span>
      {label !== undefined && <span class="tree-key">{label}: </span>}
      {path.length ? (
        // Each value opens the gallery of assets whose metadata has it at the same place.
        <Link class={kind} href={withQuery("/", { meta: metadataFilterFor(path, value) })} title="Show the assets with this value">
          {text}
        </Link>
      ) : (
        <span class={kind}>{text}</span>
      )}
    </span>
  );
}

function LineageNode({ asset, current = false }: { asset: CardFieldsFragment; current?: boolean }) {
  const inner = (
    <>
      {asset.thumbnailUrl ? <img src={asset.thumbnailUrl} alt="" loading="lazy" width={64} height={64} /> : <span class="type-tile small">{typeLabel(asset.contentType)}</span>}
      <span>{asset.name}</span>
    </>
  );
  return current ? (
    <div class="lineage-node current" aria-current="true">
      {inner}
    </div>
  ) : (
    <Link class="lineage-node" href={`/asset/${encodeURIComponent(asset.id)}`}>
      {inner}
    </Link>
  );
}

function Lineage({ asset, parents, children, more }: { asset: CardFieldsFragment; parents: CardFieldsFragment[]; children: CardFieldsFragment[]; more: number }) {
  if (!parents.length && !children.length) return <p class="muted">No lineage: this asset was not made from, or into, other assets.</p>;
  return (
    <div class="lineage" role="group" aria-label="Lineage graph">
      <div class="lineage-col">
        <h3>Derived from</h3>
        {parents.length ? parents.map((p) => <LineageNode key={p.id} asset={p} />) : <p class="muted">Nothing</p>}
      </div>
      <div class="lineage-arrow" aria-hidden="true">
        →
      </div>
      <div class="lineage-col">
        <h3>This asset</h3>
        <LineageNode asset={asset} current />
      </div>
      <div class="lineage-arrow" aria-hidden="true">
        →
      </div>
      <div class="lineage-col">
        <h3>Derivatives</h3>
        {children.length ? children.map((c) => <LineageNode key={c.id} asset={c} />) : <p class="muted">Nothing yet</p>}
        {more > 0 && <p class="muted">and {more} more</p>}
      </div>
    </div>
  );
}

/** The asset's tags, each a link to the gallery of assets carrying it; add and remove them. */
function Tags({ id, tags }: { id: string; tags: readonly string[] }) {
  const [text, setText] = useState("");
  const [added, tag] = useMutation(TagAssetMutation);
  const [removed, untag] = useMutation(UntagAssetMutation);
  const [choices] = useQuery({ query: TagChoicesQuery, variables: { prefix: null } });
  // Both return a count, not the asset: refetch what shows assets.
  const refresh = { additionalTypenames: ["Asset"] };
  const error = added.error ?? removed.error;
  return (
    <>
      {tags.length ? (
        <ul class="chips" aria-label="Tags">
          {tags.map((t) => (
            <li key={t} class="chip">
              <Link href={withQuery("/", { tag: [t] })}>{t}</Link>
              <button type="button" class="chip-remove" aria-label={`Remove tag ${t}`} disabled={removed.fetching} onClick={() => untag({ id, tags: [t] }, refresh)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">None</p>
      )}
      <form
        class="tag-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const value = text.trim();
          if (!value) return;
          const result = await tag({ id, tags: [value] }, refresh);
          if (!result.error) setText("");
        }}
      >
        <label for="tag-input" class="visually-hidden">
          New tag
        </label>
        <input id="tag-input" list="asset-tag-choices" value={text} placeholder="Add a tag" maxLength={64} onInput={(e) => setText(e.currentTarget.value)} />
        <datalist id="asset-tag-choices">
          {(choices.data?.assetTags ?? [])
            .filter((c) => !tags.includes(c.tag))
            .map((c) => (
              <option key={c.tag} value={c.tag} />
            ))}
        </datalist>
        <button type="submit" disabled={added.fetching || !text.trim()}>
          Add tag
        </button>
      </form>
      {error && <ErrorMessage error={error} />}
    </>
  );
}

function Actions({ id, name, parentId, back }: { id: string; name: string; parentId: string | null | undefined; back: string }) {
  const [dialog, setDialog] = useState<"rename" | "move" | "delete" | null>(null);
  const [newName, setNewName] = useState(name);
  const [folder, setFolder] = useState(parentId ?? "");
  const [updated, update] = useMutation(UpdateAssetMutation);
  const [deleted, remove] = useMutation(DeleteAssetMutation);
  const [folders] = useQuery({ query: FoldersQuery, pause: dialog !== "move" });
  useEffect(() => {
    setNewName(name);
    setFolder(parentId ?? "");
  }, [dialog]);
  const close = () => setDialog(null);
  return (
    <div class="actions">
      <button type="button" onClick={() => setDialog("rename")}>
        Rename
      </button>
      <button type="button" onClick={() => setDialog("move")}>
        Move
      </button>
      <button type="button" class="danger" onClick={() => setDialog("delete")}>
        Delete
      </button>
      <Dialog open={dialog === "rename"} title="Rename asset" onClose={close}>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const result = await update({ id, input: { name: newName.trim() } });
            if (!result.error) close();
          }}
        >
          <label for="rename-input">New name</label>
          <input id="rename-input" value={newName} onInput={(e) => setNewName(e.currentTarget.value)} required />
          {updated.error && <ErrorMessage error={updated.error} />}
          <div class="dialog-buttons">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={updated.fetching}>
              Rename
            </button>
          </div>
        </form>
      </Dialog>
      <Dialog open={dialog === "move"} title="Move to a folder" onClose={close}>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const result = await update({ id, input: { parentId: folder || null } });
            if (!result.error) close();
          }}
        >
          <label for="move-select">Folder</label>
          <select id="move-select" value={folder} onChange={(e) => setFolder(e.currentTarget.value)}>
            <option value="">No folder (top level)</option>
            {folders.data?.assets.nodes.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
          {updated.error && <ErrorMessage error={updated.error} />}
          <div class="dialog-buttons">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={updated.fetching}>
              Move
            </button>
          </div>
        </form>
      </Dialog>
      <Dialog open={dialog === "delete"} title="Delete this asset?" onClose={close}>
        <p>
          <strong>{name}</strong> and its content will be deleted. This cannot be undone.
        </p>
        {deleted.error && <ErrorMessage error={deleted.error} />}
        <div class="dialog-buttons">
          <button type="button" onClick={close} autoFocus>
            Cancel
          </button>
          <button
            type="button"
            class="danger"
            disabled={deleted.fetching}
            onClick={async () => {
              const result = await remove({ id }, { additionalTypenames: ["Asset"] });
              if (!result.error) {
                close();
                navigate(back, { replace: true });
              }
            }}
          >
            Delete
          </button>
        </div>
      </Dialog>
    </div>
  );
}

/** Where the asset was opened from, and its neighbours there (← and → step to them). */
function useBrowsing(id: string) {
  const context = browsing();
  const index = context ? context.ids.indexOf(id) : -1;
  const back = context && index >= 0 ? context.url : "/";
  const previous = index > 0 ? context!.ids[index - 1] : null;
  const next = context && index >= 0 && index < context.ids.length - 1 ? context.ids[index + 1] : null;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      const target = event.target as HTMLElement;
      if (target.closest("input, select, textarea, video, audio, dialog, [contenteditable]")) return;
      const to = event.key === "ArrowLeft" ? previous : event.key === "ArrowRight" ? next : null;
      if (to) navigate(`/asset/${encodeURIComponent(to)}`, { replace: true });
      else if (event.key === "Escape") navigate(back);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [previous, next, back]);
  return { back, previous, next, position: index >= 0 ? `${index + 1} of ${context!.ids.length}` : null };
}

export function AssetView({ id }: { id: string }) {
  const [result] = useQuery({ query: AssetQuery, variables: { id } });
  const workflowNames = useWorkflowNames();
  const around = useBrowsing(id);
  if (result.error) return <main id="main" tabIndex={-1} class="page"><ErrorMessage error={result.error} /></main>;
  const asset = result.data?.asset;
  if (!result.data) return <main id="main" tabIndex={-1} class="page"><p class="loading">Loading…</p></main>;
  if (!asset)
    return (
      <main id="main" tabIndex={-1} class="page">
        <h1>Asset not found</h1>
        <p>
          It may have been deleted. <Link href="/">Back to the gallery</Link>
        </p>
      </main>
    );
  const facts: [string, preact.ComponentChildren][] = [
    ["Type", asset.contentType],
    ["Size", `${bytes(asset.size)} (${asset.size.toLocaleString()} bytes)`],
    ["Created", when(asset.createdAt)],
    ["Updated", when(asset.updatedAt)],
    ["SHA-256", <code class="hash">{asset.sha256}</code>],
  ];
  if (asset.nodeId) facts.push(["Node", <Link href={withQuery("/", { node: asset.nodeId })}>{asset.nodeId}</Link>]);
  if (asset.jobId)
    facts.push([
      "Job",
      <>
        <Link href={withQuery("/", { job: asset.jobId })}>{asset.jobId}</Link>
        {asset.job && (
          <>
            {" "}
            <StatusBadge status={asset.job.status} /> <Link href={`/jobs/${encodeURIComponent(asset.job.id)}`}>job page</Link>
          </>
        )}
      </>,
    ]);
  if (asset.workflowId) facts.push(["Workflow", <Link href={withQuery("/", { workflow: asset.workflowId })}>{workflowNames.get(asset.workflowId) ?? asset.workflowId}</Link>]);
  if (asset.parent) facts.push(["Folder", <Link href={withQuery("/", { folder: asset.parent.id })}>{asset.parent.name}</Link>]);
  return (
    <main id="main" tabIndex={-1} class="page asset-view">
      <div class="crumbs-row">
        <nav class="crumbs" aria-label="Breadcrumb">
          <Link href={around.back}>Gallery</Link> / <span>{asset.name}</span>
        </nav>
        {around.position && (
          <nav class="stepper" aria-label="Neighbouring assets">
            {around.previous ? (
              <Link href={`/asset/${encodeURIComponent(around.previous)}`} aria-keyshortcuts="ArrowLeft">
                ← Previous
              </Link>
            ) : (
              <span class="muted">← Previous</span>
            )}
            <span class="muted">{around.position}</span>
            {around.next ? (
              <Link href={`/asset/${encodeURIComponent(around.next)}`} aria-keyshortcuts="ArrowRight">
                Next →
              </Link>
            ) : (
              <span class="muted">Next →</span>
            )}
          </nav>
        )}
      </div>
      <div class="asset-head">
        <h1>{asset.name}</h1>
        <div class="actions">
          <a class="button primary" href={asset.url} download={asset.name}>
            Download
          </a>
          <Actions id={asset.id} name={asset.name} parentId={asset.parentId} back={around.back} />
        </div>
      </div>
      <div class="asset-layout">
        <section class="preview" aria-label="Preview">
          <Preview asset={asset} />
        </section>
        <aside class="facts" aria-label="Details">
          <h2>Details</h2>
          <dl>
            {facts.map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </>
            ))}
          </dl>
          <h2>Tags</h2>
          <Tags id={asset.id} tags={asset.tags} />
          <h2>Metadata</h2>
          {asset.metadata == null ? <p class="muted">None</p> : <div class="metadata"><MetadataTree value={asset.metadata} /></div>}
        </aside>
      </div>
      <section class="lineage-section" aria-labelledby="lineage-title">
        <h2 id="lineage-title">Lineage</h2>
        <Lineage asset={asset} parents={asset.derivedFrom} children={asset.derivatives.nodes} more={asset.derivatives.totalCount - asset.derivatives.nodes.length} />
      </section>
    </main>
  );
}
