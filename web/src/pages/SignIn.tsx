import { useState } from "preact/hooks";
import { checkToken } from "../auth";

export function SignIn({ reason, onSignedIn }: { reason?: string; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" tabIndex={-1} class="signin">
      <form
        class="card-panel"
        onSubmit={async (event) => {
          event.preventDefault();
          const value = token.trim();
          if (!value) return;
          setBusy(true);
          setError(null);
          try {
            if ((await checkToken(value)) === "ok") onSignedIn(value);
            else setError("That token was not accepted.");
          } catch {
            setError("The server could not be reached.");
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>
          <img src={`${import.meta.env.BASE_URL}favicon.svg`} alt="" width={32} height={32} /> Sign in to Trove
        </h1>
        <p>This server asks for an API token. It stays in this browser tab until you close it.</p>
        {reason && (
          <p class="notice" role="status">
            {reason}
          </p>
        )}
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="trove_…"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          autoFocus
          required
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <p class="hint">
          Create one on the server with <code>trove token create --user NAME</code>.
        </p>
      </form>
    </main>
  );
}
