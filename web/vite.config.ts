import { defineConfig } from "vite";

// Served by Trove: the index at `/` (and every app route), everything else under /app/.
// The dev server serves it all from `/`, so app routes look the same there.
export default defineConfig(({ command }) => ({
  base: command === "build" ? "/app/" : "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false },
  server: {
    // `npm run dev` next to `trove serve` on :8000.
    proxy: {
      "/graphql": { target: "http://127.0.0.1:8000", ws: true },
      "/assets": "http://127.0.0.1:8000",
      // Direct-upload parts on local storage go to Trove's own signed part URLs.
      "/uploads": "http://127.0.0.1:8000",
    },
  },
}));
