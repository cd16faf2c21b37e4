// Opens Trove's GraphiQL in headless Chromium with every non-loopback request blocked,
// types an Authorization header and a query the way a person would, runs it, and prints
// one JSON object describing what happened.
// Usage: node graphiql.mjs URL TOKEN QUERY OPERATION_NAME USER_DATA_DIR [SCREENSHOT]
import { chromium } from 'playwright-core';

const [url, token, query, operationName, userDataDir, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 60_000;

const report = {
  externalRequests: [],
  consoleErrors: [],
  pageErrors: [],
  headersTemplate: null,
  defaultResponse: null,
  typedResponse: null,
  editorWidth: null,
  widestDefaultLine: null,
};

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  // A common laptop window: the welcome comment must fit the query editor at this size.
  viewport: { width: 1280, height: 800 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  // The page must need nothing but the server: anything else is recorded and refused.
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) return route.continue();
    report.externalRequests.push(route.request().url());
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (message) => {
    if (message.type() === 'error') report.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => report.pageErrors.push(String(error)));

  await page.goto(url, { waitUntil: 'load' });
  const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
  await queryEditor.waitFor();
  // How wide the default query's lines are drawn, against the editor's visible width.
  Object.assign(
    report,
    await queryEditor.evaluate((editor) => {
      const scroller = editor.querySelector('.CodeMirror-scroll');
      const lines = [...editor.querySelectorAll('.CodeMirror-line > span')];
      const gutter = editor.querySelector('.CodeMirror-gutters')?.getBoundingClientRect().width ?? 0;
      return {
        editorWidth: scroller.clientWidth - gutter,
        widestDefaultLine: Math.max(...lines.map((line) => line.getBoundingClientRect().width)),
      };
    }),
  );
  const headersEditor = page.locator('.graphiql-editor-tool .CodeMirror').last();
  await headersEditor.waitFor();
  report.headersTemplate = await headersEditor.locator('.CodeMirror-code').innerText();

  // The headers editor closes brackets and quotes as they are typed, and types over a
  // closing character that is already there: typing the whole JSON leaves it intact.
  await headersEditor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(`{"Authorization": "Bearer ${token}"}`);

  const response = page.locator('.graphiql-response .CodeMirror-code');

  // First the example the page ships with, unchanged.
  await page.locator('.graphiql-execute-button').click();
  await page.waitForFunction(
    () => /"(data|errors)"/.test(document.querySelector('.graphiql-response')?.innerText ?? ''),
  );
  report.defaultResponse = await response.innerText();

  // Then a query typed into the editor, run with the keyboard shortcut.
  await queryEditor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(query);
  await page.keyboard.press('Escape'); // closes an autocomplete popup, if one is open
  // GraphiQL reads the operation name from the editor shortly after the last keystroke
  // (and stores it); running before that would send the previous operation's name.
  await page.waitForFunction(
    (name) => window.localStorage.getItem('graphiql:operationName') === name,
    operationName,
  );
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction(
    (previous) => {
      const text = document.querySelector('.graphiql-response')?.innerText ?? '';
      return text !== previous && /"(data|errors)"/.test(text);
    },
    report.defaultResponse,
  );
  report.typedQuery = await queryEditor.locator('.CodeMirror-code').innerText();
  report.typedResponse = await response.innerText();
  if (screenshot) await page.screenshot({ path: screenshot });
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(report) + '\n');
