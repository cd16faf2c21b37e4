import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { CardFieldsFragment, JobStatus } from "./gql/graphql";
import { bytes, typeLabel, when } from "./format";
import { Link } from "./router";
import { useClient, useQuery } from "@urql/preact";
import type { AssetFilter } from "./gql/graphql";
import { ArchiveUrlQuery, WorkflowNamesQuery } from "./ops";

export function AssetCard({ asset, fresh = false }: { asset: CardFieldsFragment; fresh?: boolean }) {
  const href = asset.contentType === "folder" ? `/?folder=${encodeURIComponent(asset.id)}` : `/asset/${encodeURIComponent(asset.id)}`;
  return (
    <li class={fresh ? "card fresh" : "card"}>
      <Link href={href} class="card-link" data-asset-id={asset.id} onClick={(e) => rememberBrowsing(e.currentTarget as HTMLElement)}>
        <span class="thumb">
          {asset.thumbnailUrl ? (
            <img src={asset.thumbnailUrl} alt="" loading="lazy" decoding="async" width={256} height={256} />
          ) : (
            <span class={`type-tile type-${asset.contentType.split("/")[0]}`} aria-hidden="true">
              {typeLabel(asset.contentType)}
            </span>
          )}
        </span>
        <span class="card-name" title={asset.name}>
          {asset.name}
        </span>
        <span class="card-meta">
          {asset.contentType === "folder" ? "Folder" : `${typeLabel(asset.contentType)} · ${bytes(asset.size)}`}
          <span class="visually-hidden">, created {when(asset.createdAt)}</span>
        </span>
      </Link>
    </li>
  );
}

export function StatusBadge({ status }: { status: JobStatus }) {
  return <span class={`status status-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}

export function ErrorMessage({ error }: { error: { message: string; graphQLErrors?: { message: string }[] } }) {
  const text = error.graphQLErrors?.[0]?.message ?? error.message.replace(/^\[\w+\] /, "");
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

/** A modal <dialog>: focus stays inside, Escape cancels. */
export function Dialog({
  open,
  title,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby="dialog-title" onClose={onClose} onCancel={onClose}>
      <h2 id="dialog-title">{title}</h2>
      {children}
    </dialog>
  );
}

/** Calls onVisible whenever the element scrolls into view (infinite scroll). */
export function Sentinel({ onVisible }: { onVisible: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const callback = useRef(onVisible);
  callback.current = onVisible;
  useEffect(() => {
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) callback.current();
      },
      { rootMargin: "600px" },
    );
    if (ref.current) observer.observe(ref.current);
    return () => observer.disconnect();
  }, []);
  return <div ref={ref} class="sentinel" aria-hidden="true" />;
}

/** Arrow keys move focus between the cards of a grid; Home/End jump to the ends. */
export function gridKeys(event: KeyboardEvent): void {
  const keys = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];
  if (!keys.includes(event.key)) return;
  const grid = event.currentTarget as HTMLElement;
  const links = [...grid.querySelectorAll<HTMLElement>(".card-link")];
  const index = links.indexOf(document.activeElement as HTMLElement);
  if (index < 0) return;
  const top = links[0].offsetTop;
  const columns = Math.max(1, links.findIndex((l) => l.offsetTop !== top) === -1 ? links.length : links.findIndex((l) => l.offsetTop !== top));
  const moves: Record<string, number> = {
    ArrowLeft: index - 1,
    ArrowRight: index + 1,
    ArrowUp: index - columns,
    ArrowDown: index + columns,
    Home: 0,
    End: links.length - 1,
  };
  const next = links[Math.min(Math.max(moves[event.key], 0), links.length - 1)];
  if (next && next !== links[index]) {
    event.preventDefault();
    next.focus();
  }
}

/** A text field that commits its value on Enter or when it loses focus (not per keystroke):
 *  typing stays local, so a re-render from the URL never overwrites what is being typed. */
export function CommitInput({
  value,
  onCommit,
  clearOnCommit = false,
  ...props
}: { value: string; onCommit: (value: string) => void; clearOnCommit?: boolean } & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "value" | "onInput" | "onChange">) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  const commit = () => {
    if (text.trim() !== value) onCommit(text.trim());
    // A field that adds to a list (tags) empties for the next entry.
    if (clearOnCommit) setText("");
  };
  return (
    <input
      {...props}
      value={text}
      onInput={(e) => setText(e.currentTarget.value)}
      onChange={commit}
      onKeyDown={(e) => e.key === "Enter" && commit()}
    />
  );
}

/** Stored workflows' names by id: assets and jobs carry only the id. */
export function useWorkflowNames(): Map<string, string> {
  const [result] = useQuery({ query: WorkflowNamesQuery });
  const nodes = result.data?.workflows.nodes;
  return new Map((nodes ?? []).map((w) => [w.id, w.name]));
}

const BROWSING = "trove.browsing";

/** The grid an asset was opened from: its page (with filters) and the order of its assets,
 *  so the asset view can go back to it and step to the neighbours. */
export interface Browsing {
  url: string;
  ids: string[];
}

function rememberBrowsing(link: HTMLElement): void {
  const grid = link.closest(".grid");
  if (!grid) return;
  const ids = [...grid.querySelectorAll<HTMLElement>(".card-link[data-asset-id]")]
    .filter((l) => !l.getAttribute("href")?.startsWith("/?"))
    .map((l) => l.dataset.assetId!);
  sessionStorage.setItem(BROWSING, JSON.stringify({ url: location.pathname + location.search, ids }));
}

export function browsing(): Browsing | null {
  try {
    return JSON.parse(sessionStorage.getItem(BROWSING) ?? "null") as Browsing | null;
  } catch {
    return null;
  }
}

/** Every asset matching a filter as one zip (assetArchiveUrl: a signed link, streamed). */
export function DownloadAll({ filter, label = "Download all" }: { filter: AssetFilter; label?: string }) {
  const client = useClient();
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  return (
    <span class="download-all">
      <button
        type="button"
        disabled={state.busy}
        onClick={async () => {
          setState({ busy: true });
          const result = await client.query(ArchiveUrlQuery, { filter }, { requestPolicy: "network-only" }).toPromise();
          const url = result.data?.assetArchiveUrl;
          if (!url) return setState({ busy: false, error: result.error?.graphQLErrors[0]?.message ?? "The archive could not be made" });
          // The link answers with an attachment: the page stays where it is.
          const link = document.createElement("a");
          link.href = url;
          link.download = "";
          link.click();
          setState({ busy: false });
        }}
      >
        {label} <span class="muted">(.zip)</span>
      </button>
      {state.error && (
        <span class="error" role="alert">
          {" "}
          {state.error}
        </span>
      )}
    </span>
  );
}
