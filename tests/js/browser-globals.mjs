// Loaded (node --import) before the docs' JavaScript examples: the one browser global they
// use that Node.js 20 lacks. fetch, File, FormData and crypto.subtle are built in.
const store = new Map([['troveToken', process.env.TOKEN ?? '']]);
globalThis.localStorage ??= {
  getItem: (key) => (store.has(key) ? store.get(key) : null),
  setItem: (key, value) => store.set(key, String(value)),
  removeItem: (key) => store.delete(key),
};
