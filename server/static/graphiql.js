// Starts GraphiQL from files this server serves itself, so the IDE works without internet.
// The page's settings come from a JSON block, not inline script, so the page's
// Content-Security-Policy can forbid inline and foreign scripts altogether.
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('trove-config').textContent);
  var endpoint = new URL(config.endpoint, window.location.href);
  var socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  // A browser cannot set headers on a WebSocket, so the headers typed in the editor
  // travel as the subscription's connection parameters (the server reads Authorization
  // from there). A new header set needs a new socket, hence one fetcher per set.
  var current = { key: null, fetcher: null };

  function fetcherFor(headers) {
    var key = JSON.stringify(headers || {});
    if (current.key !== key) {
      current.key = key;
      current.fetcher = GraphiQL.createFetcher({
        url: endpoint.href,
        subscriptionUrl: socket.href,
        wsConnectionParams: headers || {},
      });
    }
    return current.fetcher;
  }

  function fetcher(params, options) {
    return fetcherFor(options && options.headers)(params, options);
  }

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      defaultHeaders: config.defaultHeaders,
      defaultTabs: [{ query: config.defaultQuery, headers: config.defaultHeaders }],
      // With token auth the first thing a user needs is the Authorization header.
      defaultEditorToolsVisibility: config.authRequired ? 'headers' : false,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    }),
  );
})();
