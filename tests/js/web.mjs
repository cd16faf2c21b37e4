// Drives Trove's asset browser in headless Chromium against a live, seeded `trove serve`,
// the way a person would, and prints one JSON report: what each step saw, every failure,
// console error, failed request and axe violation. Usage: node web.mjs CONFIG.json
// CONFIG: {url, mode: "main" | "token", token?, seed, userDataDir, axe, screenshots?}
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const axeSource = readFileSync(config.axe, 'utf8');
const TIMEOUT = 30_000;

const report = {
  steps: {},
  failures: [],
  consoleErrors: [],
  pageErrors: [],
  failedRequests: [],
  errorResponses: [],
  externalRequests: [],
  axe: {},
  screenshots: [],
};

const context = await chromium.launchPersistentContext(config.userDataDir, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
await context.route('**/*', (route) => {
  const { protocol, hostname } = new URL(route.request().url());
  // Chromium's own pages (its PDF viewer) are not network requests.
  if (!['http:', 'https:'].includes(protocol)) return route.continue();
  if (['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) return route.continue();
  report.externalRequests.push(route.request().url());
  return route.abort();
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(TIMEOUT);
// While a step takes the network away on purpose, what that makes fail is expected.
let offline = false;
const expected = (text) => offline && text.includes('ERR_INTERNET_DISCONNECTED');
// Responses a step makes fail on purpose (page.route), by URL.
const injected = new Set();
page.on('console', (m) => m.type() === 'error' && !expected(m.text()) && !injected.has(m.location()?.url) && report.consoleErrors.push(`${m.text()} @ ${page.url()}`));
page.on('pageerror', (e) => report.pageErrors.push(String(e)));
page.on('requestfailed', (r) => !expected(r.failure()?.errorText ?? '') && report.failedRequests.push(`${r.failure()?.errorText} ${r.url()}`));
page.on('response', (r) => r.status() >= 400 && !injected.has(r.url()) && report.errorResponses.push(`${r.status()} ${r.url()}`));

const url = (path) => config.url + path;
const seed = config.seed;

async function step(name, work) {
  try {
    report.steps[name] = (await work()) ?? true;
  } catch (error) {
    report.failures.push(`${name}: ${error.stack || error}`);
    try {
      await page.screenshot({ path: join(config.userDataDir, `failed-${name}.png`), fullPage: true });
    } catch {
      /* the failure itself is what matters */
    }
  }
}

async function shot(name, options = {}) {
  if (!config.screenshots) return;
  const path = join(config.screenshots, `${name}.png`);
  await page.screenshot({ path, ...options });
  report.screenshots.push(path);
}

/** axe-core's violations of impact serious or critical on the page as it is. */
async function axe(name) {
  // evaluate() runs outside the page's CSP, which allows no inline script.
  const violations = await page.evaluate(async (source) => {
    if (!window.axe) (0, eval)(source);
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  }, axeSource);
  report.axe[name] = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

async function cards() {
  return page.locator('.grid .card').count();
}

async function countText() {
  return (await page.locator('.page-head .count').innerText()).trim();
}

async function waitForCount(text) {
  await page.locator('.page-head .count', { hasText: new RegExp(`^${text}$`) }).waitFor();
}

async function openAsset(id) {
  await page.goto(url(`/asset/${id}`));
  await page.locator('.asset-view h1').waitFor();
}

/** How many distinct parts were PUT for each upload (/uploads/ID/parts/N), fewest first. */
const partsPerUpload = (paths) => {
  const counts = new Map();
  for (const path of new Set(paths)) counts.set(path.split('/')[2], (counts.get(path.split('/')[2]) ?? 0) + 1);
  return [...counts.values()].sort((a, b) => a - b);
};
const sha256 = (buffer) => createHash('sha256').update(buffer).digest('hex');
const isPart = (r) => r.method() === 'PUT' && /\/uploads\/[^/]+\/parts\/\d+/.test(r.url());
const throttle = async (cdp, bytesPerSecond) =>
  cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
const graphql = async (query, variables = {}) => (await (await page.request.post(url('/graphql'), { data: { query, variables } })).json()).data;

if (config.mode === 'token') {
  await step('prompt', async () => {
    await page.goto(url('/'));
    await page.getByLabel('API token').waitFor();
    await axe('signIn');
    await shot('sign-in');
    return { title: await page.locator('h1').innerText() };
  });
  await step('wrongToken', async () => {
    await page.getByLabel('API token').fill('trove_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    return { error: await page.locator('.error').innerText() };
  });
  await step('signIn', async () => {
    await page.getByLabel('API token').fill(config.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.grid .card').first().waitFor();
    await page.locator('.signed-in', { hasText: 'Signed in as' }).waitFor();
    await axe('signedIn');
    await page.waitForFunction(() => [...document.querySelectorAll('.grid img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot('signed-in');
    return { who: await page.locator('.signed-in').innerText(), title: await page.locator('.signed-in').getAttribute('title'), count: await countText() };
  });
  await step('reloadKeepsSession', async () => {
    await page.reload();
    await page.locator('.grid .card').first().waitFor();
    await page.locator('.signed-in', { hasText: 'Signed in as' }).waitFor();
    return { who: await page.locator('.signed-in').innerText() };
  });
  await step('signOut', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    const stored = await page.evaluate(() => sessionStorage.getItem('trove.token'));
    await page.reload();
    await page.getByLabel('API token').waitFor(); // signed out for good, not until a reload
    await page.getByLabel('API token').fill(config.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.signed-in', { hasText: 'Signed in as' }).waitFor();
    return { stored, title: await page.locator('h1').innerText() };
  });
  await step('contentLoads', async () => {
    const img = page.locator('.grid .card img').first();
    await img.waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.grid img')].slice(0, 4).every((i) => i.complete && i.naturalWidth > 0));
    return true;
  });
  await step('uploadSignedIn', async () => {
    // createUpload and completeUpload carry the token; the part URLs are signed instead.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Upload' }).click();
    await page.locator('#file-input').setInputFiles([{ name: 'signed-upload.txt', mimeType: 'text/plain', buffer: Buffer.from('mine\n') }]);
    await page.locator('.upload[data-state="done"], .upload[data-state="failed"]').waitFor();
    const state = await page.locator('.upload').getAttribute('data-state');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gallery' }).click();
    await waitForCount('4 assets');
    return { state, count: await countText() };
  });
  await step('revokedTokenReturnsToPrompt', async () => {
    // As if the token were revoked: the server now refuses what the app sends.
    await page.route('**/graphql', (route) =>
      route.continue({ headers: { ...route.request().headers(), authorization: 'Bearer trove_revoked' } }),
    );
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('API token').waitFor();
    await page.unroute('**/graphql');
    return { notice: await page.locator('.notice').innerText() };
  });
} else if (config.mode === 's3upload') {
  await step('s3upload', async () => {
    // Storage is a bucket: the parts go to its presigned URLs, straight from the page.
    const puts = [];
    page.on('request', (r) => r.method() === 'PUT' && puts.push(r.url()));
    await page.goto(url('/upload'));
    const files = [
      { name: 'to-the-bucket.bin', mimeType: 'application/octet-stream', buffer: randomBytes(20 * 1024 * 1024) },
      { name: 'small-to-the-bucket.txt', mimeType: 'text/plain', buffer: Buffer.from('a few bytes\n') },
    ];
    await page.locator('#file-input').setInputFiles(files);
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('.upload')];
      return rows.length === 2 && rows.every((r) => r.dataset.state === 'done' || r.dataset.state === 'failed');
    }, null, { timeout: 120_000 });
    const states = await page.locator('.upload').evaluateAll((rows) => rows.map((r) => r.dataset.state));
    const errors = await page.locator('.upload .error').allInnerTexts();
    const stored = (await graphql('{ assets { nodes { name size sha256 } } }')).assets.nodes;
    return {
      states,
      errors,
      putOrigins: [...new Set(puts.map((u) => new URL(u).origin))],
      partNumbers: puts.map((u) => Number(new URL(u).searchParams.get('partNumber'))).sort(),
      hashesMatch: files.every((f) => stored.find((a) => a.name === f.name)?.sha256 === sha256(f.buffer)),
    };
  });
} else {
  await step('gallery', async () => {
    await page.goto(url('/'));
    await page.locator('.grid .card').first().waitFor();
    await page.waitForFunction(() => /assets$/.test(document.querySelector('.page-head .count')?.textContent ?? ''));
    const firstPage = await cards();
    const total = Number((await countText()).split(' ')[0]);
    await page.waitForFunction(() => [...document.querySelectorAll('.grid img')].slice(0, 8).every((i) => i.complete && i.naturalWidth > 0));
    await axe('gallery');
    await shot('gallery');
    const lazy = await page.locator('.grid img[loading="lazy"]').count();
    for (let i = 0; i < 20 && (await cards()) < total; i++) {
      await page.locator('.grid .card').last().scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
    }
    return { firstPage, total, afterScroll: await cards(), lazy };
  });

  await step('filters', async () => {
    await page.goto(url('/'));
    await page.getByLabel('Type', { exact: true }).selectOption('image/');
    await page.waitForURL(/type=image%2F/);
    await page.getByLabel('Node', { exact: true }).fill('tiler');
    await page.getByLabel('Node', { exact: true }).press('Enter');
    await page.getByLabel('Node', { exact: true }).blur();
    await waitForCount('60 assets');
    await page.getByLabel('Name', { exact: true }).fill('tile-0');
    await waitForCount('9 assets');
    const shared = page.url();
    await page.getByLabel('Sort', { exact: true }).selectOption('NAME_DESC');
    await page.locator('.card-name').first().filter({ hasText: 'tile-09.png' }).waitFor();
    const sorted = await page.locator('.card-name').first().innerText();
    // The URL is the view: opened afresh it shows the same thing.
    await page.goto(shared);
    await waitForCount('9 assets');
    const restored = {
      name: await page.getByLabel('Name', { exact: true }).inputValue(),
      node: await page.getByLabel('Node', { exact: true }).inputValue(),
      type: await page.getByLabel('Type', { exact: true }).inputValue(),
    };
    const tomorrow = new Date(Date.now() + 86400_000).toISOString().slice(0, 10);
    await page.goto(url(`/?from=${tomorrow}`));
    await page.locator('.empty').waitFor();
    const future = await countText();
    await page.goto(url(`/?workflow=${seed.workflow}&type=video%2F`));
    await waitForCount('1 asset');
    await page.goto(url('/?type=application%2Fjson'));
    await waitForCount('1 asset');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForURL((u) => !u.search.includes('type='));
    return { url: shared, sorted, restored, future };
  });

  await step('keyboard', async () => {
    await page.goto(url('/?node=tiler&sort=NAME_ASC'));
    await page.locator('.card-link').first().waitFor();
    await page.locator('.card-link').first().focus();
    await page.keyboard.press('ArrowRight');
    const right = await page.evaluate(() => document.activeElement?.querySelector('.card-name')?.textContent);
    await page.keyboard.press('ArrowDown');
    const down = await page.evaluate(() => document.activeElement?.querySelector('.card-name')?.textContent);
    const columns = await page.evaluate(() => {
      const links = [...document.querySelectorAll('.card-link')];
      return links.filter((l) => l.offsetTop === links[0].offsetTop).length;
    });
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/asset\//);
    const opened = await page.locator('.asset-view h1').innerText();
    const position = await page.locator('.stepper').innerText();
    // In the asset view, the arrows step through the grid it was opened from; Escape goes back.
    await page.keyboard.press('ArrowRight');
    await page.locator('.asset-view h1', { hasText: `tile-${String(Number(opened.slice(5, 7)) + 1).padStart(2, '0')}.png` }).waitFor();
    const next = await page.locator('.asset-view h1').innerText();
    await page.keyboard.press('ArrowLeft');
    await page.locator('.asset-view h1', { hasText: opened }).waitFor();
    await page.keyboard.press('Escape');
    await page.waitForURL(/\?node=tiler&sort=NAME_ASC$/);
    await page.locator('.grid .card').first().waitFor();
    return { right, down, columns, opened, position, next, back: page.url() };
  });

  await step('tags', async () => {
    // Filter by a tag (picked like any other filter; it lands in the URL).
    await page.goto(url('/'));
    await page.getByLabel('Tags', { exact: true }).fill('favourite');
    await page.getByLabel('Tags', { exact: true }).press('Enter');
    await page.waitForURL(/tag=favourite/);
    await waitForCount('5 assets');
    const tagged = (await page.locator('.card-name').allInnerTexts()).sort();
    // A metadata key/value (dotted keys reach into objects), alone and with the tag.
    await page.getByLabel('Metadata', { exact: true }).fill('grid.row=0');
    await page.getByLabel('Metadata', { exact: true }).press('Enter');
    await page.waitForURL(/meta=grid.row%3D0/);
    await waitForCount('5 assets');
    await page.waitForFunction(() => [...document.querySelectorAll('.grid img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot('gallery-tags');
    await page.getByRole('button', { name: 'Remove tag filter favourite' }).click();
    await page.waitForURL((u) => !u.search.includes('tag='));
    await waitForCount('10 assets');
    const rowZero = page.url();
    await page.goto(url('/?meta=seed%3D42'));
    await waitForCount('1 asset');
    const bySeed = await page.locator('.card-name').first().innerText();
    await page.goto(url('/?meta=oops'));
    const badFilter = await page.locator('#meta-error').innerText();
    // Add a tag on the asset view; the gallery of that tag then has it.
    await openAsset(seed.tiles[5]);
    const before = await page.locator('.facts .chips, .facts .muted').first().innerText();
    await page.getByLabel('New tag').fill('favourite');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.locator('.facts .chip a', { hasText: 'favourite' }).waitFor();
    await axe('assetTags');
    await shot('asset-tags');
    await page.locator('.facts .chip a', { hasText: 'favourite' }).click();
    await page.waitForURL(/\/\?tag=favourite$/);
    await waitForCount('6 assets');
    const afterAdd = (await page.locator('.card-name').allInnerTexts()).sort();
    // And remove it again.
    await openAsset(seed.tiles[5]);
    await page.getByRole('button', { name: 'Remove tag favourite' }).click();
    await page.locator('.facts .chip').waitFor({ state: 'detached' });
    const stored = await page.request.post(url('/graphql'), { data: { query: `{ asset(id: "${seed.tiles[5]}") { tags } }` } });
    return { tagged, rowZero, bySeed, badFilter, before, afterAdd, tagsAfterRemove: (await stored.json()).data.asset.tags };
  });

  await step('image', async () => {
    await openAsset(seed.byNode.grey.id);
    const img = page.locator('.image-frame img');
    await page.waitForFunction(() => document.querySelector('.image-frame img')?.naturalWidth > 0);
    await page.getByRole('button', { name: 'Zoom to 100%' }).click();
    const zoomed = await page.locator('.image-viewer').getAttribute('class');
    await page.getByRole('button', { name: 'Fit to view' }).click();
    await axe('assetImage');
    await shot('asset-image', { fullPage: true });
    return { zoomed, width: await img.evaluate((i) => i.naturalWidth), facts: await page.locator('.facts dl').innerText() };
  });

  await step('lineage', async () => {
    await openAsset(seed.byNode.grey.id);
    const from = page.locator('.lineage-col').first().locator('a.lineage-node');
    const parentName = await from.first().innerText();
    await from.first().click();
    await page.waitForURL(new RegExp(`/asset/${seed.byNode.resize.id}$`));
    await page.locator('.asset-view h1', { hasText: seed.byNode.resize.name }).waitFor();
    await page.locator('.lineage-col').first().locator('a.lineage-node').first().click();
    await page.waitForURL(new RegExp(`/asset/${seed.byNode.create.id}$`));
    await page.locator('.asset-view h1', { hasText: seed.byNode.create.name }).waitFor();
    const derivatives = await page.locator('.lineage-col').last().locator('a.lineage-node').allInnerTexts();
    await page.goBack();
    await page.waitForURL(new RegExp(`/asset/${seed.byNode.resize.id}$`));
    return { parentName, derivatives };
  });

  await step('video', async () => {
    const ranges = [];
    const listener = (r) => r.url().includes(`/assets/${seed.byNode.video.id}/content`) && ranges.push(r.status());
    page.on('response', listener);
    await openAsset(seed.byNode.video.id);
    const duration = await page.locator('video').evaluate(
      (v) => new Promise((resolve) => (v.readyState >= 1 ? resolve(v.duration) : v.addEventListener('loadedmetadata', () => resolve(v.duration)))),
    );
    await axe('assetVideo');
    await shot('asset-video');
    page.off('response', listener);
    return { duration, statuses: ranges };
  });

  await step('audio', async () => {
    await openAsset(seed.byNode.tone.id);
    const duration = await page.locator('audio').evaluate(
      (a) => new Promise((resolve) => (a.readyState >= 1 ? resolve(a.duration) : a.addEventListener('loadedmetadata', () => resolve(a.duration)))),
    );
    return { duration };
  });

  await step('text', async () => {
    await openAsset(seed.notes);
    return { text: await page.locator('.text-viewer pre').innerText() };
  });

  await step('json', async () => {
    await openAsset(seed.params);
    await page.locator('.text-viewer pre').waitFor();
    const text = await page.locator('.text-viewer pre').innerText();
    const tree = await page.locator('.metadata').innerText();
    await axe('assetJson');
    await shot('asset-json');
    // A value in the tree opens the gallery of assets whose metadata holds it there.
    await page.locator('.metadata a', { hasText: '"grain"' }).click();
    await page.waitForURL(/meta=/);
    await waitForCount('1 asset');
    const byValue = { meta: new URL(page.url()).searchParams.get('meta'), names: await page.locator('.card-name').allInnerTexts() };
    return { text, tree, byValue };
  });

  await step('markdown', async () => {
    await openAsset(seed.byNode.notes.id);
    await page.locator('.markdown').waitFor();
    return { html: await page.locator('.markdown').innerHTML() };
  });

  await step('pdf', async () => {
    await openAsset(seed.byNode.poster.id);
    const frame = page.locator('iframe.pdf');
    await frame.waitFor();
    const src = await frame.getAttribute('src');
    const response = await page.request.get(src);
    return { title: await frame.getAttribute('title'), status: response.status(), type: response.headers()['content-type'] };
  });

  await step('download', async () => {
    await openAsset(seed.binary);
    await page.locator('.no-preview').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.no-preview a').click()]);
    return { name: download.suggestedFilename(), folder: await page.locator('.facts dl').innerText() };
  });

  await step('factLinks', async () => {
    await openAsset(seed.byNode.grey.id);
    await page.locator('.facts').getByRole('link', { name: 'grey' }).click();
    await page.waitForURL(/\?node=grey/);
    await waitForCount('1 asset');
    return { url: page.url() };
  });

  await step('liveArrival', async () => {
    // The subscription is open once graphql-ws has sent its subscribe message.
    const subscribed = new Promise((resolve) => {
      page.on('websocket', (ws) => ws.on('framesent', (f) => String(f.payload).includes('AssetCreated') && resolve(true)));
      setTimeout(() => resolve(false), 15_000);
    });
    await page.goto(url('/?job=live-1'));
    await page.locator('.empty').waitFor();
    const wasSubscribed = await subscribed;
    const started = await page.evaluate(async (graph) => {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id status } }', variables: { input: { graph, jobId: 'live-1' } } }),
      });
      return (await response.json()).data.runWorkflow;
    }, seed.slowGraph);
    const beforeArrival = await cards();
    await page.locator('.grid .card.fresh').waitFor({ timeout: 60_000 });
    await waitForCount('1 asset');
    await page.waitForFunction(() => document.getAnimations().every((a) => a.playState === 'finished'));
    await shot('live-arrival');
    return { wasSubscribed, started, beforeArrival, name: await page.locator('.card-name').first().innerText(), url: page.url() };
  });

  await step('jobLive', async () => {
    await page.goto(url(`/workflows/${seed.workflow}`));
    await page.getByLabel(/^title/).fill('Run from the browser');
    await axe('workflow');
    await shot('workflow');
    await page.getByRole('button', { name: 'Run workflow' }).click();
    await page.waitForURL(/\/jobs\/[^/]+$/);
    const seen = new Set();
    const statusText = async () => (await page.locator('h1 .status').innerText()).trim();
    for (let i = 0; i < 600; i++) {
      seen.add(await statusText());
      if (seen.has('completed') || seen.has('failed')) break;
      await page.waitForTimeout(100);
    }
    await page.locator('.node-group').first().waitFor();
    await page.locator('.node-group', { hasText: 'grey' }).waitFor();
    await axe('job');
    await shot('job', { fullPage: true });
    const groups = await page.locator('.node-group h3').allInnerTexts();
    // The title typed into the run form reached the workflow: its notes carry it.
    const jobId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
    const saved = await page.request.post(url('/graphql'), { data: { query: 'query($id: ID!) { job(id: $id) { assets(nodeId: "notes") { nodes { url } } } }', variables: { id: jobId } } });
    const notesUrl = (await saved.json()).data?.job?.assets?.nodes?.[0]?.url;
    const notes = notesUrl ? await (await page.request.get(notesUrl)).text() : null;
    return { seen: [...seen], groups, notes, outputs: await page.locator('section').first().innerText() };
  });

  await step('archive', async () => {
    // "Download them": a job's assets, and a filtered gallery, each as one zip.
    await page.goto(url('/jobs/poster-1'));
    await page.locator('.node-group').first().waitFor();
    const [job] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Download this job's assets/ }).click()]);
    const jobZip = join(config.userDataDir, 'job.zip');
    await job.saveAs(jobZip);
    await page.goto(url('/?job=poster-1&type=image%2F'));
    await page.locator('.grid .card').first().waitFor();
    const [images] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Download these/ }).click()]);
    const imagesZip = join(config.userDataDir, 'images.zip');
    await images.saveAs(imagesZip);
    return { jobZip, imagesZip, jobName: job.suggestedFilename(), imageCards: await page.locator('.card-name').allInnerTexts() };
  });

  await step('jobStatusLive', async () => {
    await page.evaluate(async (graph) => {
      await fetch('/graphql', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }', variables: { input: { graph, jobId: 'live-2' } } }),
      });
    }, seed.slowGraph);
    await page.goto(url('/jobs/live-2'));
    const seen = [];
    for (let i = 0; i < 600; i++) {
      const status = (await page.locator('h1 .status').innerText()).trim();
      if (seen[seen.length - 1] !== status) seen.push(status);
      if (['completed', 'failed', 'cancelled'].includes(status)) break;
      await page.waitForTimeout(100);
    }
    await page.locator('.node-group', { hasText: 'banner' }).waitFor();
    return { seen, banner: await page.locator('.node-group .card-name').first().innerText() };
  });

  await step('failedJob', async () => {
    // An image input left empty fails at run time, at that node.
    const graph = { nodes: [{ id: 'photo', type: 'input.Image', data: { name: 'photo' } }, { id: 'shrink', type: 'image.Resize', data: {} }], edges: [{ source: 'photo', sourceHandle: 'output', target: 'shrink', targetHandle: 'image' }] };
    await page.evaluate(async (graph) => {
      await fetch('/graphql', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }', variables: { input: { graph, jobId: 'will-fail' } } }),
      });
    }, graph);
    await page.goto(url('/jobs/will-fail'));
    await page.locator('.job-error').waitFor();
    return { status: await page.locator('h1 .status').innerText(), error: await page.locator('.job-error').innerText() };
  });

  await step('jobsList', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.locator('table').waitFor();
    await axe('jobs');
    await shot('jobs');
    return { rows: await page.locator('tbody tr').count() };
  });

  await step('cancel', async () => {
    const slow = JSON.parse(JSON.stringify(seed.slowGraph));
    slow.nodes.find((n) => n.id === 'wait').data.seconds = 30;
    await page.evaluate(async (graph) => {
      await fetch('/graphql', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }', variables: { input: { graph, jobId: 'to-cancel' } } }),
      });
    }, slow);
    await page.goto(url('/jobs/to-cancel'));
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('h1 .status', { hasText: 'cancelled' }).waitFor();
    return { status: await page.locator('h1 .status').innerText() };
  });

  await step('workflows', async () => {
    await page.goto(url('/workflows'));
    await page.locator('table').waitFor();
    await axe('workflows');
    return { rows: await page.locator('tbody tr').allInnerTexts() };
  });

  await step('upload', async () => {
    await page.goto(url('/upload'));
    await page.getByLabel('Folder').selectOption({ label: 'Renders' });
    await page.getByLabel('Workflow id').fill('uploads-wf');
    await page.getByLabel('Job id').fill('uploads-job');
    await page.getByLabel('Node id').fill('uploader');
    // What goes over the wire: part PUTs (how many at once), and never a multipart POST.
    const parts = [];
    const posts = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const onRequest = (r) => {
      if (isPart(r)) {
        parts.push(new URL(r.url()).pathname);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
      } else if (r.method() === 'POST') posts.push(r.headers()['content-type'] ?? '');
    };
    const onEnd = (r) => isPart(r) && inFlight--;
    page.on('request', onRequest);
    page.on('requestfinished', onEnd);
    page.on('requestfailed', onEnd);
    const cdp = await context.newCDPSession(page);
    // Slow uploads down (8 MB/s) so progress can be seen between the start and the end.
    await throttle(cdp, 8 * 1024 * 1024);
    // 20 MiB of noise: three parts of 8 MiB (the last shorter); any misplaced byte shows in the hash.
    const files = [
      { name: 'big-upload.bin', mimeType: 'application/octet-stream', buffer: randomBytes(20 * 1024 * 1024) },
      { name: 'hello-upload.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the upload page\n') },
      { name: 'pixel-upload.png', mimeType: 'image/png', buffer: Buffer.from(seed.pngBase64, 'base64') },
    ];
    await page.locator('#file-input').setInputFiles(files);
    const partial = [];
    for (let i = 0; i < 600; i++) {
      const states = await page.locator('.upload').evaluateAll((rows) =>
        rows.map((r) => ({ name: r.querySelector('.upload-name').textContent, state: r.dataset.state, value: r.querySelector('progress').value, max: r.querySelector('progress').max })),
      );
      for (const s of states) if (s.state === 'uploading' && s.value > 0 && s.value < s.max) partial.push(s);
      if (states.length === 3 && states.every((s) => s.state === 'done' || s.state === 'failed')) break;
      await page.waitForTimeout(50);
    }
    await throttle(cdp, -1);
    page.off('request', onRequest);
    page.off('requestfinished', onEnd);
    page.off('requestfailed', onEnd);
    const stored = (
      await graphql('{ assets(jobId: "uploads-job", orderBy: NAME_ASC) { nodes { name size sha256 nodeId workflowId parent { name } } } }')
    ).assets.nodes;
    const hashesMatch = files.every((f) => stored.find((a) => a.name === f.name)?.sha256 === sha256(f.buffer));
    // Offline, an upload fails with a message and a Retry button that works once back online.
    offline = true;
    await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.locator('#file-input').setInputFiles([{ name: 'offline-upload.txt', mimeType: 'text/plain', buffer: Buffer.from('later') }]);
    const failedRow = page.locator('.upload', { hasText: 'offline-upload.txt' });
    await failedRow.locator('[data-state="failed"], .error').first().waitFor();
    const offlineError = await failedRow.locator('.error').innerText();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    offline = false;
    await failedRow.getByRole('button', { name: 'Retry offline-upload.txt' }).click();
    await page.locator('.upload[data-state="done"]', { hasText: 'offline-upload.txt' }).waitFor();
    await axe('upload');
    await shot('upload');
    const states = await page.locator('.upload').evaluateAll((rows) => rows.map((r) => r.dataset.state));
    await page.locator('.upload-name a', { hasText: 'pixel-upload.png' }).click();
    await page.waitForURL(/\/asset\//);
    const facts = await page.locator('.facts dl').innerText();
    return {
      offlineError,
      states,
      partial: partial.length,
      bigPartial: partial.filter((s) => s.name === 'big-upload.bin').length,
      sample: partial.slice(0, 2),
      facts,
      stored: stored.map(({ sha256: _, ...rest }) => rest),
      hashesMatch,
      // Distinct parts PUT per upload (/uploads/ID/parts/N), fewest first.
      partsPerUpload: partsPerUpload(parts),
      maxInFlight,
      multipartPosts: posts.filter((t) => t.startsWith('multipart/')).length,
    };
  });

  await step('uploadRetry', async () => {
    await page.goto(url('/upload'));
    // Storage refuses one PUT: the part goes again and the file arrives whole.
    let refused = 0;
    await page.route('**/uploads/*/parts/*', (route) => {
      if (refused++ > 0) return route.continue();
      injected.add(route.request().url());
      return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'Storage is busy', code: 'UNAVAILABLE' }) });
    });
    const once = Buffer.from('sent twice, stored once\n');
    await page.locator('#file-input').setInputFiles([{ name: 'retried-upload.txt', mimeType: 'text/plain', buffer: once }]);
    await page.locator('.upload[data-state="done"]', { hasText: 'retried-upload.txt' }).waitFor();
    await page.unroute('**/uploads/*/parts/*');
    const retried = (await graphql('{ assets(search: "retried-upload") { nodes { sha256 } } }')).assets.nodes;
    // Storage keeps refusing: after the second try the upload is abandoned with a message.
    await page.route('**/uploads/*/parts/*', (route) => {
      injected.add(route.request().url());
      return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'Storage is busy', code: 'UNAVAILABLE' }) });
    });
    const aborted = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('abortUpload'));
    await page.locator('#file-input').setInputFiles([{ name: 'refused-upload.txt', mimeType: 'text/plain', buffer: Buffer.from('never stored') }]);
    const row = page.locator('.upload[data-state="failed"]', { hasText: 'refused-upload.txt' });
    await row.waitFor();
    const abortAnswer = await (await aborted).json();
    await page.unroute('**/uploads/*/parts/*');
    const refusedStored = (await graphql('{ assets(search: "refused-upload") { totalCount } }')).assets.totalCount;
    return {
      refused,
      retriedHash: retried.map((a) => a.sha256),
      expectedHash: sha256(once),
      error: await row.locator('.error').innerText(),
      aborted: abortAnswer.data?.abortUpload,
      refusedStored,
    };
  });

  await step('uploadCancel', async () => {
    await page.goto(url('/upload'));
    const cdp = await context.newCDPSession(page);
    await throttle(cdp, 1024 * 1024);
    const aborted = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('abortUpload'));
    await page.locator('#file-input').setInputFiles([{ name: 'cancelled-upload.bin', mimeType: 'application/octet-stream', buffer: randomBytes(20 * 1024 * 1024) }]);
    const row = page.locator('.upload', { hasText: 'cancelled-upload.bin' });
    await page.waitForFunction(() => [...document.querySelectorAll('.upload')].some((r) => r.textContent.includes('cancelled-upload.bin') && r.querySelector('progress').value > 0));
    // Leaving the page does not stop the upload; coming back shows it, still going.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Gallery' }).click();
    await page.locator('.grid .card').first().waitFor();
    await nav.getByRole('link', { name: 'Upload' }).click();
    const stateAfterReturn = await row.getAttribute('data-state');
    const sentBeforeCancel = await row.locator('progress').evaluate((p) => p.value);
    await page.getByRole('button', { name: 'Cancel cancelled-upload.bin' }).click();
    await page.locator('.upload[data-state="cancelled"]', { hasText: 'cancelled-upload.bin' }).waitFor();
    const abortAnswer = await (await aborted).json();
    await throttle(cdp, -1);
    const stored = (await graphql('{ assets(search: "cancelled-upload") { totalCount } }')).assets.totalCount;
    return { stateAfterReturn, sentBeforeCancel, state: await row.getAttribute('data-state'), text: await row.locator('.upload-state').innerText(), aborted: abortAnswer.data?.abortUpload, stored };
  });

  await step('renameAndMove', async () => {
    await openAsset(seed.params);
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name').fill('parameters.json');
    await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
    await page.locator('.asset-view h1', { hasText: 'parameters.json' }).waitFor();
    await page.getByRole('button', { name: 'Move' }).click();
    await page.getByRole('dialog').getByLabel('Folder').selectOption({ label: 'Renders' });
    await page.getByRole('dialog').getByRole('button', { name: 'Move' }).click();
    await page.locator('.facts a', { hasText: 'Renders' }).waitFor();
    await page.locator('.facts a', { hasText: 'Renders' }).click();
    await page.waitForURL(/folder=/);
    await page.locator('.card-name', { hasText: 'parameters.json' }).waitFor();
    return { folderView: await page.locator('.card-name').allInnerTexts() };
  });

  await step('delete', async () => {
    const id = seed.tiles[seed.tiles.length - 1];
    await openAsset(id);
    await page.locator('.asset-head').getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await axe('deleteDialog');
    await shot('delete-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const stillThere = await page.locator('.asset-view h1').innerText();
    await page.locator('.asset-head').getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(url('/'));
    await page.locator('.grid .card').first().waitFor();
    const response = await page.request.post(url('/graphql'), { data: { query: `{ asset(id: "${id}") { id } }` } });
    return { stillThere, after: (await response.json()).data.asset };
  });

  await step('folders', async () => {
    await page.goto(url('/folders'));
    await page.getByLabel('New folder name').fill('Sketches');
    await page.getByRole('button', { name: 'Create folder' }).click();
    await page.locator('.folder-list a', { hasText: 'Sketches' }).waitFor();
    await axe('folders');
    await shot('folders');
    await page.getByRole('button', { name: 'Delete folder Sketches' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete folder' }).click();
    await page.locator('.folder-list a', { hasText: 'Sketches' }).waitFor({ state: 'detached' });
    return { folders: await page.locator('.folder-list a').allInnerTexts() };
  });

  await step('notFound', async () => {
    await page.goto(url('/no/such/page'));
    return { title: await page.locator('h1').innerText() };
  });

  await step('dark', async () => {
    await page.goto(url('/'));
    await page.getByLabel('Theme').selectOption('dark');
    await page.waitForFunction(() => [...document.querySelectorAll('.grid img')].slice(0, 8).every((i) => i.complete && i.naturalWidth > 0));
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    await axe('galleryDark');
    await shot('gallery-dark');
    await openAsset(seed.byNode.create.id);
    await axe('assetDark');
    await page.getByLabel('Theme').selectOption('system');
    return { background };
  });

  await step('phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url('/'));
    await page.locator('.grid .card').first().waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.grid img')].slice(0, 4).every((i) => i.complete && i.naturalWidth > 0));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await axe('phone');
    await shot('gallery-phone');
    const foldedFilters = await page.locator('#gallery-filters').isVisible();
    await page.getByRole('button', { name: 'Filters' }).click();
    const shownFilters = await page.getByLabel('Node', { exact: true }).isVisible();
    await openAsset(seed.byNode.create.id);
    const assetOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const others = {};
    for (const path of ['/upload', '/jobs', '/folders', `/workflows/${seed.workflow}`]) {
      await page.goto(url(path));
      await page.locator('main h1').waitFor();
      others[path.split('/')[1]] = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
    return { overflow, assetOverflow, foldedFilters, shownFilters, others };
  });
}

await context.close();
console.log(JSON.stringify(report));
