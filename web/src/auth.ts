// The API token (TROVE_AUTH=token) lives in this tab's session storage only.
const KEY = "trove.token";

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

export function authHeaders(token: string | null): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Whether the server accepts this token (or needs none, when token is null). */
export async function checkToken(token: string | null): Promise<"ok" | "unauthorized"> {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders(token) },
    body: JSON.stringify({ query: "query SignInCheck { assets(first: 0) { totalCount } }" }),
  });
  if (response.status === 401) return "unauthorized";
  const body = await response.json();
  const codes = (body.errors ?? []).map((e: { extensions?: { code?: string } }) => e.extensions?.code);
  return codes.includes("UNAUTHENTICATED") ? "unauthorized" : "ok";
}
