// The gallery's tag and metadata filters: what the URL says, as the API's `tags` and
// `metadata` arguments, and the same tests for assets that arrive live.

/**
 * The metadata filter as typed: a JSON object (`{"seed": 42}`), or `key=value` pairs split by
 * commas, dotted keys nesting (`sampler.name=euler, seed=42`). Values are JSON when they
 * parse (42, true, "42") and text otherwise. The API matches assets whose metadata contains it.
 */
export function parseMetadata(text: string): { value: Record<string, unknown> | null; error?: string } {
  const source = text.trim();
  if (!source) return { value: null };
  if (source.startsWith("{")) {
    try {
      const value = JSON.parse(source);
      if (value && typeof value === "object" && !Array.isArray(value)) return { value };
    } catch {
      /* reported below */
    }
    return { value: null, error: "Not a JSON object" };
  }
  const value: Record<string, unknown> = {};
  for (const pair of source.split(",")) {
    const at = pair.indexOf("=");
    const path = pair.slice(0, at).trim();
    if (at < 0 || !path) return { value: null, error: `Write key=value, not "${pair.trim()}"` };
    const raw = pair.slice(at + 1).trim();
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      /* text */
    }
    const keys = path.split(".");
    let node = value;
    for (const key of keys.slice(0, -1)) {
      if (!node[key] || typeof node[key] !== "object") node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = parsed;
  }
  return { value };
}

/** JSON containment as PostgreSQL's @> (and Trove's metadata filter) defines it. */
export function contains(whole: unknown, part: unknown): boolean {
  if (Array.isArray(part)) return Array.isArray(whole) && part.every((p) => whole.some((w) => contains(w, p)));
  if (part !== null && typeof part === "object") {
    if (whole === null || typeof whole !== "object" || Array.isArray(whole)) return false;
    return Object.entries(part).every(([k, v]) => k in whole && contains((whole as Record<string, unknown>)[k], v));
  }
  return whole === part;
}

/** Whether an asset carries every tag (tags compare case-insensitively). */
export function hasTags(assetTags: readonly string[], wanted: readonly string[]): boolean {
  const own = new Set(assetTags.map((t) => t.toLowerCase()));
  return wanted.every((t) => own.has(t.toLowerCase()));
}

/**
 * The metadata filter (as the gallery's `meta` parameter) that finds assets with this value
 * at this place: `sampler.name=euler`, `loras=["film"]` inside arrays, or a JSON object when
 * a key cannot be written plainly.
 */
export function metadataFilterFor(path: readonly (string | number)[], value: unknown): string {
  let wanted: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) {
    const key = path[i];
    wanted = typeof key === "number" ? [wanted] : { [key]: wanted };
  }
  const keys: string[] = [];
  let plain = true;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (typeof key === "number") {
      // An array element: the rest goes as the JSON value (`loras=["film"]`).
      let rest: unknown = value;
      for (let j = path.length - 1; j > i; j--) rest = typeof path[j] === "number" ? [rest] : { [path[j]]: rest };
      const text = JSON.stringify([rest]);
      return plain && keys.length && !text.includes(",") ? `${keys.join(".")}=${text}` : JSON.stringify(wanted);
    }
    if (!/^[\w-]+$/.test(key)) plain = false;
    keys.push(key);
  }
  let text = JSON.stringify(value);
  // Text that is not JSON by itself reads better bare: sampler.name=euler.
  if (typeof value === "string" && !isJson(value) && !/[,]/.test(value) && value.trim() === value && value) text = value;
  return plain && keys.length && !text.includes(",") ? `${keys.join(".")}=${text}` : JSON.stringify(wanted);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
