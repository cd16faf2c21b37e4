import {
  Client,
  cacheExchange,
  fetchExchange,
  mapExchange,
  subscriptionExchange,
  type CombinedError,
} from "@urql/core";
import { createClient as createSocket } from "graphql-ws";
import { authHeaders } from "./auth";

function unauthorized(error: CombinedError): boolean {
  const status = (error.response as Response | undefined)?.status;
  return (
    status === 401 || error.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED")
  );
}

/** One client per token: HTTP for queries and mutations, graphql-ws for subscriptions. */
export function makeClient(token: string | null, onUnauthorized: () => void): Client {
  const socket = createSocket({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: authHeaders(token),
    lazy: true,
    retryAttempts: 10,
    on: {
      closed: (event) => {
        // 4403: the server refused the connection's credentials.
        if ((event as CloseEvent | undefined)?.code === 4403) onUnauthorized();
      },
    },
  });
  return new Client({
    url: "/graphql",
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({ headers: authHeaders(token) }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (unauthorized(error)) onUnauthorized();
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              return { unsubscribe: socket.subscribe(input, sink) };
            },
          };
        },
      }),
    ],
  });
}
