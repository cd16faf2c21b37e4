export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

/** A short label for a type that has no thumbnail. */
export function typeLabel(contentType: string): string {
  if (contentType === "folder") return "Folder";
  if (contentType === "application/pdf") return "PDF";
  if (contentType === "application/json") return "JSON";
  const [major, minor = ""] = contentType.split("/");
  if (["audio", "video", "image"].includes(major)) return `${major} · ${minor}`;
  if (major === "text") return minor === "markdown" ? "Markdown" : "Text";
  return minor || major;
}

export function errorText(error: { message: string; graphQLErrors?: { message: string }[] }): string {
  return error.graphQLErrors?.[0]?.message ?? error.message.replace(/^\[\w+\] /, "");
}
