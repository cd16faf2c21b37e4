import "./styles.css";
import { render } from "preact";
import { Provider, useQuery } from "@urql/preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { checkToken, storedToken, storeToken } from "./auth";
import { makeClient } from "./client";
import { ViewerQuery } from "./ops";
import { Link, match, usePlace } from "./router";
import { ThemeToggle } from "./theme";
import { Gallery } from "./pages/Gallery";
import { AssetView } from "./pages/AssetView";
import { JobList, JobView } from "./pages/Jobs";
import { WorkflowList, WorkflowView } from "./pages/Workflows";
import { Upload } from "./pages/Upload";
import { FolderList } from "./pages/Folders";
import { SignIn } from "./pages/SignIn";

type Session = { state: "checking" } | { state: "signed-out"; reason?: string } | { state: "in"; token: string | null };

function Routes() {
  const { path, query } = usePlace();
  // A new page takes the focus, as a page load would: screen readers announce it and Tab
  // starts from its top, not from a link that is gone.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [path]);
  let params: Record<string, string> | null;
  if ((params = match("/asset/:id", path))) return <AssetView id={params.id} />;
  if (match("/jobs", path)) return <JobList />;
  if ((params = match("/jobs/:id", path))) return <JobView id={params.id} />;
  if (match("/workflows", path)) return <WorkflowList />;
  if ((params = match("/workflows/:id", path))) return <WorkflowView id={params.id} />;
  if (match("/upload", path)) return <Upload />;
  if (match("/folders", path)) return <FolderList />;
  if (match("/", path)) return <Gallery query={query} />;
  return (
    <main id="main" tabIndex={-1} class="page">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link href="/">Back to the gallery</Link>.
      </p>
    </main>
  );
}

const NAV = [
  ["/", "Gallery"],
  ["/folders", "Folders"],
  ["/jobs", "Jobs"],
  ["/workflows", "Workflows"],
  ["/upload", "Upload"],
] as const;

/** Who the token belongs to (the `viewer` query); the token's start tells tokens apart. */
function SignedIn({ token }: { token: string }) {
  const [viewer] = useQuery({ query: ViewerQuery });
  const name = viewer.data?.viewer.name;
  return (
    <span class="signed-in" title={`Signed in with the API token ${token.slice(0, 10)}…`}>
      {name ? (
        <>
          Signed in as <strong>{name}</strong>
        </>
      ) : (
        "Signed in"
      )}
    </span>
  );
}

function Header({ token, signOut }: { token: string | null; signOut: (() => void) | null }) {
  const { path } = usePlace();
  const section = (href: string) =>
    href === "/" ? path === "/" || path.startsWith("/asset/") : path.startsWith(href);
  return (
    <header class="top">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Link href="/" class="brand" aria-label="Trove home">
        <img src={`${import.meta.env.BASE_URL}favicon.svg`} alt="" width={24} height={24} />
        <span>Trove</span>
      </Link>
      <nav aria-label="Main">
        {NAV.map(([href, label]) => (
          <Link key={href} href={href} aria-current={section(href) ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      <div class="who">
        {token && <SignedIn token={token} />}
        {signOut && (
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        )}
        <ThemeToggle />
      </div>
    </header>
  );
}

function App() {
  const [session, setSession] = useState<Session>({ state: "checking" });

  const signOut = useCallback((reason?: string) => {
    storeToken(null);
    setSession({ state: "signed-out", reason });
  }, []);

  useEffect(() => {
    const token = storedToken();
    // The server says whether it wants a token (absent under Vite's dev server: ask it then).
    const mode = document.querySelector<HTMLMetaElement>('meta[name="trove-auth"]')?.content;
    if (mode === "none") return setSession({ state: "in", token: null });
    if (mode === "token" && !token) return setSession({ state: "signed-out" });
    checkToken(token)
      .then((result) => {
        if (result === "ok") setSession({ state: "in", token });
        else signOut(token ? "Your token was not accepted. Sign in again." : undefined);
      })
      .catch(() => setSession({ state: "in", token }));
  }, [signOut]);

  const client = useMemo(
    () =>
      session.state === "in"
        ? makeClient(session.token, () => signOut("The server asked for your token again."))
        : null,
    [session, signOut],
  );

  if (session.state === "checking") return <p class="loading page">Loading…</p>;
  if (session.state === "signed-out" || !client)
    return (
      <SignIn
        reason={session.state === "signed-out" ? session.reason : undefined}
        onSignedIn={(token) => {
          storeToken(token);
          setSession({ state: "in", token });
        }}
      />
    );
  return (
    <Provider value={client}>
      <Header token={session.token} signOut={session.token ? () => signOut() : null} />
      <Routes />
    </Provider>
  );
}

render(<App />, document.getElementById("root")!);
