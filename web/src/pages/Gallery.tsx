import { useQuery, useSubscription } from "@urql/preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { AssetCard, CommitInput, DownloadAll, ErrorMessage, Sentinel, gridKeys, useWorkflowNames } from "../components";
import type { AssetFilter, AssetOrder, CardFieldsFragment } from "../gql/graphql";
import { contains, hasTags, parseMetadata } from "../filters";
import { AssetCreatedSubscription, FilterChoicesQuery, FolderQuery, GalleryQuery, TagChoicesQuery } from "../ops";
import { Link, navigate, withQuery } from "../router";

const PAGE_SIZE = 48;
const FILTER_KEYS = ["q", "type", "workflow", "job", "node", "meta", "from", "to", "sort", "folder"] as const;
// `tag` may repeat in the URL (assets carrying every one): tags are free text, commas too.
type Filters = Record<(typeof FILTER_KEYS)[number], string> & { tag: string[] };

const SORTS: [AssetOrder, string][] = [
  ["CREATED_AT_DESC", "Newest first"],
  ["CREATED_AT_ASC", "Oldest first"],
  ["NAME_ASC", "Name A–Z"],
  ["NAME_DESC", "Name Z–A"],
  ["SIZE_DESC", "Largest first"],
  ["SIZE_ASC", "Smallest first"],
];
const TYPE_GROUPS: [string, string][] = [
  ["image/", "Images"],
  ["video/", "Video"],
  ["audio/", "Audio"],
  ["text/", "Text"],
  ["application/pdf", "PDF"],
  ["application/json", "JSON"],
];

function readFilters(query: URLSearchParams): Filters {
  return { ...(Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) ?? ""])) as Record<(typeof FILTER_KEYS)[number], string>), tag: query.getAll("tag") };
}

/** A date input's day as the start of that day, local time, in ISO form. */
function dayStart(day: string, offsetDays = 0): string | null {
  if (!day) return null;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return null;
  date.setDate(date.getDate() + offsetDays);
  return date.toISOString();
}

function variables(filters: Filters) {
  return {
    search: filters.q || null,
    contentType: filters.type || null,
    workflowId: filters.workflow || null,
    jobId: filters.job || null,
    nodeId: filters.node || null,
    parentId: filters.folder || null,
    createdAfter: dayStart(filters.from),
    createdBefore: dayStart(filters.to, 1),
    tags: filters.tag.length ? filters.tag : null,
    metadata: parseMetadata(filters.meta).value,
    orderBy: (filters.sort || "CREATED_AT_DESC") as AssetOrder,
  };
}

/** The assets the grid shows, as the archive's filter. */
function archiveFilter(filters: Filters): AssetFilter {
  const { orderBy: _, ...filter } = variables(filters);
  return filter;
}

/** Whether an asset the server just announced belongs in this view (filters it does not apply). */
function matches(asset: CardFieldsFragment & { parentId?: string | null; metadata?: unknown }, filters: Filters): boolean {
  const vars = variables(filters);
  if (vars.tags && !hasTags(asset.tags, vars.tags)) return false;
  if (vars.metadata && !contains(asset.metadata, vars.metadata)) return false;
  if (vars.search && !asset.name.toLowerCase().includes(vars.search.toLowerCase())) return false;
  if (vars.contentType) {
    const ok = vars.contentType.endsWith("/") ? asset.contentType.startsWith(vars.contentType) : asset.contentType === vars.contentType;
    if (!ok) return false;
  }
  if (vars.parentId && asset.parentId !== vars.parentId) return false;
  if (vars.createdAfter && asset.createdAt < vars.createdAfter) return false;
  if (vars.createdBefore && asset.createdAt >= vars.createdBefore) return false;
  return true;
}

function Page({
  filters,
  after,
  hide,
  onInfo,
}: {
  filters: Filters;
  after: string | null;
  hide: Set<string>;
  onInfo: (info: { endCursor: string | null; hasNextPage: boolean; totalCount: number }) => void;
}) {
  const [result] = useQuery({ query: GalleryQuery, variables: { ...variables(filters), first: PAGE_SIZE, after } });
  const connection = result.data?.assets;
  useEffect(() => {
    if (connection)
      onInfo({ endCursor: connection.pageInfo.endCursor ?? null, hasNextPage: connection.pageInfo.hasNextPage, totalCount: connection.totalCount });
  }, [connection]);
  // Inside the grid's <ul>: whatever this says must be a list item.
  if (result.error)
    return (
      <li class="grid-note">
        <ErrorMessage error={result.error} />
      </li>
    );
  if (!connection) return after === null ? <li class="grid-note loading">Loading assets…</li> : null;
  return (
    <>
      {connection.nodes
        .filter((a) => !hide.has(a.id))
        .map((asset) => (
          <AssetCard key={asset.id} asset={asset} />
        ))}
    </>
  );
}

function FolderHeading({ id, onClear }: { id: string; onClear: () => void }) {
  const [result] = useQuery({ query: FolderQuery, variables: { id } });
  const folder = result.data?.asset;
  return (
    <p class="folder-heading">
      In folder <strong>{folder?.name ?? id}</strong>
      {folder?.parent && (
        <>
          {" "}
          (inside <Link href={withQuery("/", { folder: folder.parent.id })}>{folder.parent.name}</Link>)
        </>
      )}{" "}
      <button type="button" class="link" onClick={onClear}>
        Show all folders
      </button>
    </p>
  );
}

export function Gallery({ query }: { query: URLSearchParams }) {
  const filters = readFilters(query);
  const key = JSON.stringify(filters);
  const [search, setSearch] = useState(filters.q);
  // On a phone the filters fold away behind a button; elsewhere they are always shown.
  const [showFilters, setShowFilters] = useState(false);
  const [pages, setPages] = useState<{ key: string; cursors: (string | null)[] }>({ key, cursors: [null] });
  type Info = { endCursor: string | null; hasNextPage: boolean; totalCount: number };
  const [pageInfo, setPageInfo] = useState<(Info & { key: string }) | null>(null);
  const info = pageInfo?.key === key ? pageInfo : null;
  const [live, setLive] = useState<{ key: string; assets: CardFieldsFragment[]; unseen: number }>({ key, assets: [], unseen: 0 });
  const cursors = pages.key === key ? pages.cursors : [null];
  const arrivals = live.key === key ? live : { key, assets: [], unseen: 0 };
  const newestFirst = !filters.sort || filters.sort === "CREATED_AT_DESC";

  useEffect(() => setSearch(filters.q), [filters.q]);
  useEffect(() => {
    if (search === filters.q) return;
    const timer = setTimeout(() => update({ q: search }), 300);
    return () => clearTimeout(timer);
  }, [search]);

  const [choices] = useQuery({ query: FilterChoicesQuery });
  const [tagChoices] = useQuery({ query: TagChoicesQuery, variables: { prefix: null } });
  const metadataFilter = parseMetadata(filters.meta);
  const workflowNames = useWorkflowNames();
  useSubscription(
    { query: AssetCreatedSubscription, variables: { nodeId: filters.node || null, jobId: filters.job || null, workflowId: filters.workflow || null } },
    (_previous, data) => {
      const asset = data.assetCreated;
      if (matches(asset, filters))
        setLive((prev) => {
          const base = prev.key === key ? prev : { key, assets: [], unseen: 0 };
          if (base.assets.some((a) => a.id === asset.id)) return base;
          return newestFirst ? { ...base, assets: [asset, ...base.assets] } : { ...base, unseen: base.unseen + 1 };
        });
      return data;
    },
  );

  function update(change: Partial<Filters>) {
    const next = { ...filters, ...change };
    navigate(withQuery("/", next), { replace: true });
  }

  const hide = useMemo(() => new Set(arrivals.assets.map((a) => a.id)), [arrivals.assets]);
  const total = info ? info.totalCount + arrivals.assets.length : null;
  const activeCount = FILTER_KEYS.filter((k) => k !== "sort" && k !== "folder" && filters[k]).length + filters.tag.length;
  const active = activeCount > 0 || !!filters.folder;
  const keys = (group: readonly { key?: string | null }[] | undefined) => (group ?? []).map((g) => g.key).filter((k): k is string => !!k);

  return (
    <main id="main" tabIndex={-1} class="page gallery">
      <div class="page-head">
        <h1>Assets</h1>
        <p class="count" aria-live="polite">
          {total === null ? "" : `${total.toLocaleString()} ${total === 1 ? "asset" : "assets"}`}
        </p>
        {!!total && <DownloadAll filter={archiveFilter(filters)} label={active ? "Download these" : "Download all"} />}
      </div>
      <button
        type="button"
        class="filters-toggle"
        aria-expanded={showFilters}
        aria-controls="gallery-filters"
        onClick={() => setShowFilters(!showFilters)}
      >
        Filters{activeCount ? ` (${activeCount})` : ""}
      </button>
      <form
        id="gallery-filters"
        class={showFilters ? "filters open" : "filters"}
        role="search"
        aria-label="Filter assets"
        onSubmit={(e) => e.preventDefault()}
      >
        <div class="field">
          <label for="field-name">Name</label>
          <input id="field-name" type="search" placeholder="Search names" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="field-type">Type</label>
          <select id="field-type" value={filters.type} onChange={(e) => update({ type: e.currentTarget.value })}>
            <option value="">All types</option>
            {TYPE_GROUPS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
            {keys(choices.data?.types)
              .filter((t) => t !== "folder" && !TYPE_GROUPS.some(([v]) => v === t))
              .map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
          </select>
        </div>
        {(
          [
            ["workflow", "Workflow", choices.data?.workflows],
            ["job", "Job", choices.data?.jobs],
            ["node", "Node", choices.data?.nodes],
          ] as const
        ).map(([name, label, group]) => (
          <div class="field" key={name}>
            <label for={`field-${name}`}>{label}</label>
            <CommitInput id={`field-${name}`} list={`${name}-choices`} value={filters[name]} placeholder="Any" onCommit={(value) => update({ [name]: value })} />
            <datalist id={`${name}-choices`}>
              {keys(group).map((k) => (
                <option key={k} value={k} label={name === "workflow" ? workflowNames.get(k) : undefined} />
              ))}
            </datalist>
          </div>
        ))}
        <div class="field">
          <label for="field-tag">Tags</label>
          <CommitInput
            id="field-tag"
            list="tag-choices"
            value=""
            clearOnCommit
            placeholder={filters.tag.length ? "And…" : "Any"}
            aria-describedby={filters.tag.length ? "chosen-tags" : undefined}
            onCommit={(value) => value && !hasTags(filters.tag, [value]) && update({ tag: [...filters.tag, value] })}
          />
          <datalist id="tag-choices">
            {(tagChoices.data?.assetTags ?? []).map((t) => (
              <option key={t.tag} value={t.tag} label={`${t.count}`} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="field-meta">Metadata</label>
          <CommitInput
            id="field-meta"
            value={filters.meta}
            placeholder="key=value"
            title='key=value pairs (dotted keys nest, e.g. sampler.name=euler) or a JSON object'
            aria-invalid={metadataFilter.error ? true : undefined}
            aria-describedby={metadataFilter.error ? "meta-error" : undefined}
            onCommit={(value) => update({ meta: value })}
          />
        </div>
        <div class="field">
          <label for="field-from">From</label>
          <input id="field-from" type="date" value={filters.from} onChange={(e) => update({ from: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="field-to">To</label>
          <input id="field-to" type="date" value={filters.to} onChange={(e) => update({ to: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="field-sort">Sort</label>
          <select id="field-sort" value={filters.sort || "CREATED_AT_DESC"} onChange={(e) => update({ sort: e.currentTarget.value === "CREATED_AT_DESC" ? "" : e.currentTarget.value })}>
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {active && (
          <button type="button" class="secondary" onClick={() => navigate(withQuery("/", { sort: filters.sort }), { replace: true })}>
            Clear filters
          </button>
        )}
      </form>
      {metadataFilter.error && (
        <p id="meta-error" class="error" role="alert">
          Metadata filter: {metadataFilter.error}. Write key=value pairs split by commas, or a JSON object.
        </p>
      )}
      {filters.tag.length > 0 && (
        <ul id="chosen-tags" class="chips" aria-label="Tags filtered by">
          {filters.tag.map((tag) => (
            <li key={tag} class="chip">
              <span>{tag}</span>
              <button type="button" class="chip-remove" aria-label={`Remove tag filter ${tag}`} onClick={() => update({ tag: filters.tag.filter((t) => t !== tag) })}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {filters.folder && <FolderHeading id={filters.folder} onClear={() => update({ folder: "" })} />}
      {arrivals.unseen > 0 && (
        <p class="notice" role="status">
          {arrivals.unseen} new {arrivals.unseen === 1 ? "asset" : "assets"} since you opened this view.{" "}
          <button type="button" class="link" onClick={() => location.reload()}>
            Reload
          </button>
        </p>
      )}
      <ul class="grid" aria-label="Assets" onKeyDown={gridKeys}>
        {arrivals.assets.map((asset) => (
          <AssetCard key={asset.id} asset={asset} fresh />
        ))}
        {cursors.map((after, i) => (
          <Page
            key={`${key}:${after}`}
            filters={filters}
            after={after}
            hide={hide}
            onInfo={(p) => {
              // The last page says whether there is more; any page carries the total.
              if (i === cursors.length - 1) setPageInfo({ ...p, key });
              else setPageInfo((old) => (old?.key === key ? { ...old, totalCount: p.totalCount } : old));
            }}
          />
        ))}
      </ul>
      {total === 0 && (
        <p class="empty">
          {active ? "No assets match these filters." : "No assets yet. "}
          {!active && <Link href="/upload">Upload some</Link>}
        </p>
      )}
      {info?.hasNextPage && (
        <>
          <Sentinel
            onVisible={() =>
              setPages((prev) => {
                const list = prev.key === key ? prev.cursors : [null];
                return list.includes(info.endCursor) ? prev : { key, cursors: [...list, info.endCursor] };
              })
            }
          />
          <p class="loading">Loading more…</p>
        </>
      )}
    </main>
  );
}
