import { useEffect, useState } from "preact/hooks";
import type { CardFieldsFragment } from "../gql/graphql";
import { bytes } from "../format";

// Text viewers read at most this much (a Range request): enough to read, never a huge download.
const TEXT_LIMIT = 512 * 1024;

function isMarkdown(asset: CardFieldsFragment) {
  return asset.contentType === "text/markdown" || /\.(md|markdown)$/i.test(asset.name);
}
function isJson(asset: CardFieldsFragment) {
  return asset.contentType === "application/json" || asset.contentType.endsWith("+json");
}
function isText(asset: CardFieldsFragment) {
  return asset.contentType.startsWith("text/") || isJson(asset) || ["application/xml", "application/yaml", "application/x-yaml"].includes(asset.contentType);
}

function ImageViewer({ asset }: { asset: CardFieldsFragment }) {
  const [zoom, setZoom] = useState<"fit" | "full">("fit");
  return (
    <div class={`image-viewer zoom-${zoom}`}>
      <div class="viewer-tools">
        <button type="button" aria-pressed={zoom === "full"} onClick={() => setZoom(zoom === "fit" ? "full" : "fit")}>
          {zoom === "fit" ? "Zoom to 100%" : "Fit to view"}
        </button>
      </div>
      <div class="image-frame">
        <img src={asset.url} alt={asset.name} onClick={() => setZoom(zoom === "fit" ? "full" : "fit")} />
      </div>
    </div>
  );
}

function TextViewer({ asset }: { asset: CardFieldsFragment }) {
  const [state, setState] = useState<{ text?: string; html?: string; error?: string; truncated?: boolean }>({});
  useEffect(() => {
    let alive = true;
    (async () => {
      const response = await fetch(asset.url, { headers: { Range: `bytes=0-${TEXT_LIMIT - 1}` } });
      if (!response.ok) throw new Error(`The content could not be loaded (HTTP ${response.status})`);
      let text = await response.text();
      const truncated = asset.size > TEXT_LIMIT;
      if (isJson(asset) && !truncated) {
        try {
          text = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          /* shown as it is */
        }
      }
      if (isMarkdown(asset)) {
        const [{ marked }, { default: DOMPurify }] = await Promise.all([import("marked"), import("dompurify")]);
        const html = DOMPurify.sanitize(await marked.parse(text), { FORBID_ATTR: ["style"] });
        if (alive) setState({ html, truncated });
        return;
      }
      if (alive) setState({ text, truncated });
    })().catch((error: Error) => alive && setState({ error: error.message }));
    return () => {
      alive = false;
    };
  }, [asset.url]);
  if (state.error) return <p class="error" role="alert">{state.error}</p>;
  if (state.html === undefined && state.text === undefined) return <p class="loading">Loading…</p>;
  return (
    <div class="text-viewer">
      {state.truncated && <p class="notice">Showing the first {bytes(TEXT_LIMIT)}; download for the rest.</p>}
      {state.html !== undefined ? (
        <article class="markdown" dangerouslySetInnerHTML={{ __html: state.html }} />
      ) : (
        <pre tabIndex={0} aria-label="Content">
          <code>{state.text}</code>
        </pre>
      )}
    </div>
  );
}

export function Preview({ asset }: { asset: CardFieldsFragment }) {
  const type = asset.contentType;
  if (type.startsWith("image/")) return <ImageViewer asset={asset} />;
  if (type.startsWith("video/"))
    return (
      <video class="media" controls preload="metadata" src={asset.url} aria-label={asset.name}>
        <track kind="captions" />
      </video>
    );
  if (type.startsWith("audio/")) return <audio class="media" controls preload="metadata" src={asset.url} aria-label={asset.name} />;
  if (type === "application/pdf") return <iframe class="pdf" src={asset.url} title={`PDF: ${asset.name}`} />;
  if (isText(asset)) return <TextViewer asset={asset} />;
  return (
    <div class="no-preview">
      <p>No preview for {type}.</p>
      <a class="button primary" href={asset.url} download={asset.name}>
        Download {bytes(asset.size)}
      </a>
    </div>
  );
}
