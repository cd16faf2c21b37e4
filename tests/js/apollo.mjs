// Drives a live Trove with Apollo Client as a frontend would: automatic persisted queries
// (hashed GETs, with the retry on PERSISTED_QUERY_NOT_FOUND) and file uploads through
// apollo-upload-client with the CSRF preflight header. Prints one JSON report.
// Usage: node apollo.mjs GRAPHQL_URL [TOKEN]
// Versions: package.json pins @apollo/client 3.14.1 and apollo-upload-client 18.0.1, the
// ones docs/api.md names (apollo-upload-client 19+ needs Apollo Client 4 and other paths).
import { createHash } from 'node:crypto';

import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import createUploadLink from 'apollo-upload-client/createUploadLink.mjs';

const [uri, token] = process.argv.slice(2);
const auth = token ? { authorization: `Bearer ${token}` } : {};

// Every request the clients send, as the server saw it, for the test to check the protocol.
const exchanges = [];

async function recordingFetch(input, init = {}) {
  const url = new URL(typeof input === 'string' ? input : input.url);
  const method = init.method || 'GET';
  let sent = {};
  if (method === 'GET') {
    sent = {
      query: url.searchParams.get('query'),
      extensions: JSON.parse(url.searchParams.get('extensions') || 'null'),
    };
  } else if (typeof init.body === 'string') {
    sent = JSON.parse(init.body);
  } else {
    sent = JSON.parse(init.body.get('operations'));
  }
  const response = await fetch(input, init);
  const body = await response.clone().json();
  exchanges.push({
    method,
    accept: new Headers(init.headers).get('accept'),
    hasQuery: typeof sent.query === 'string',
    sha256Hash: sent.extensions?.persistedQuery?.sha256Hash ?? null,
    status: response.status,
    contentType: response.headers.get('content-type'),
    codes: (body.errors || []).map((error) => error.extensions?.code),
  });
  return response;
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function persistedClient(accept) {
  const http = new HttpLink({
    uri,
    fetch: recordingFetch,
    headers: { ...auth, ...(accept ? { accept } : {}) },
  });
  return new ApolloClient({
    link: createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(http),
    cache: new InMemoryCache(),
  });
}

// One document per scenario, so each starts unknown to the server's cache.
const assetsQuery = (name) => gql`
  query ${name}($first: Int) {
    assets(first: $first) {
      totalCount
      nodes {
        name
      }
    }
  }
`;

const CREATE = gql`
  mutation Upload($input: CreateAssetInput!) {
    createAsset(input: $input) {
      id
      name
      contentType
      size
    }
  }
`;

const report = { persisted: {}, upload: null, exchanges };

// Apollo Client 3 sends `Accept: */*` unless told otherwise; clients that opt into the
// newer media type get 4xx statuses for request errors, which the link must also survive.
for (const [label, name, accept] of [
  ['default', 'AssetsByApollo', null],
  [
    'graphql-response+json',
    'AssetsByApolloNewMediaType',
    'application/graphql-response+json,application/json;q=0.9',
  ],
]) {
  const client = persistedClient(accept);
  const query = assetsQuery(name);
  const first = await client.query({ query, variables: { first: 5 } });
  const again = await client.query({
    query,
    variables: { first: 5 },
    fetchPolicy: 'network-only',
  });
  report.persisted[label] = { first: first.data, again: again.data };
}

const uploads = new ApolloClient({
  link: createUploadLink({
    uri,
    fetch: recordingFetch,
    // Multipart is a form content type: the header shows the request passed CORS preflight.
    headers: { ...auth, 'Apollo-Require-Preflight': 'true' },
  }),
  cache: new InMemoryCache(),
});
const file = new File(['made by apollo-upload-client\n'], 'apollo.txt', { type: 'text/plain' });
const created = await uploads.mutate({
  mutation: CREATE,
  variables: { input: { file, nodeId: 'apollo-node' } },
});
report.upload = created.data.createAsset;

process.stdout.write(JSON.stringify(report) + '\n');
