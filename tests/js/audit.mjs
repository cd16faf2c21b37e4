// Runs the graphql-http server audits against a live Trove and prints one JSON line per audit.
// Usage: node audit.mjs URL  (TROVE_TOKEN in the environment adds `Authorization: Bearer ...`)
import { auditServer } from 'graphql-http';

const [url] = process.argv.slice(2);
const token = process.env.TROVE_TOKEN;

function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn });
for (const result of results) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    line.httpStatus = result.response.status;
    line.contentType = result.response.headers.get('content-type');
    line.body = await result.response.text().catch(() => null);
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}
