// Drives the web UI of `spanforge serve` in headless Chromium and reports what it shows.
//
//   node check.mjs --url http://127.0.0.1:PORT --out DIR --trace TRACE_ID [--span SPAN_ID]
//
// Environment: SPANFORGE_NODE_MODULES (the node_modules with playwright-core, from
// scripts/install-browser.sh) and SPANFORGE_CHROMIUM (default /usr/bin/chromium).
//
// It visits every page the way a person would (navigation links, filters, tabs, a click on a
// trace and on a span), saves a full-page screenshot of each into DIR, and prints one JSON
// object on stdout:
//   { pages: { <name>: { state, error, hash, ...extracted data } },
//     console_errors: [..], page_errors: [..], failed_requests: [..], bad_responses: [..],
//     screenshots: [paths] }
// The Rust test (tests/cli/ui.rs) makes the assertions. Exit status 0 means the run completed
// (whatever it found); anything else means the browser could not be driven (message on stderr).
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    if (!key.startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${key}`);
    args[key.slice(2)] = argv[++i];
  }
  for (const required of ['url', 'out', 'trace']) {
    if (!args[required]) throw new Error(`missing --${required}`);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const nodeModules = process.env.SPANFORGE_NODE_MODULES;
if (!nodeModules) throw new Error('SPANFORGE_NODE_MODULES is not set (run scripts/install-browser.sh)');
const require = createRequire(join(resolve(nodeModules), 'package.json'));
const { chromium } = require('playwright-core');

const TIMEOUT_MS = 20_000;
const base = args.url.replace(/\/$/, '');
const out = resolve(args.out);
mkdirSync(out, { recursive: true });

const report = {
  pages: {},
  console_errors: [],
  console_warnings: [],
  page_errors: [],
  failed_requests: [],
  bad_responses: [],
  screenshots: [],
};

// ------------------------------------------------------------------ page-side extraction

// Rows matching `selector`: their data-* attributes, and for each [data-key] cell its text and
// the raw data-value (the exact number the API sent; null when the cell has none).
function extractRows(selector) {
  return [...document.querySelectorAll(selector)].map((row) => {
    const attrs = {};
    for (const attr of row.attributes) {
      if (attr.name.startsWith('data-')) attrs[attr.name.slice(5)] = attr.value;
    }
    const cells = {};
    for (const cell of row.querySelectorAll('[data-key]')) {
      cells[cell.dataset.key] = {
        text: cell.textContent.trim(),
        value: cell.hasAttribute('data-value') ? cell.getAttribute('data-value') : null,
      };
    }
    return { attrs, cells, text: row.textContent.trim().replace(/\s+/g, ' ') };
  });
}

function extractKv(testid) {
  const table = document.querySelector(`[data-testid="${testid}"]`);
  if (!table) return null;
  const pairs = {};
  for (const row of table.querySelectorAll('tr[data-attr]')) {
    pairs[row.dataset.attr] = row.querySelector('td').textContent;
  }
  return pairs;
}

// ------------------------------------------------------------------ browser

async function waitForPage(page, name) {
  await page.waitForFunction((wanted) => {
    const view = document.getElementById('view');
    return view && view.dataset.state !== 'loading' && view.dataset.page === wanted &&
      view.dataset.hash === location.hash;
  }, name, { timeout: TIMEOUT_MS });
  return page.evaluate(() => {
    const view = document.getElementById('view');
    const error = document.querySelector('[data-testid="error"]');
    return {
      state: view.dataset.state,
      hash: location.hash,
      error: error ? error.textContent : null,
      // Elements that only unescaped data could have created.
      injected: document.querySelectorAll('#view script, #view img, #view iframe, [data-xss]').length,
    };
  });
}

async function shoot(page, name) {
  const path = join(out, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  report.screenshots.push(path);
}

// The visit under way, named in every console message, error and failed request.
let current = 'start';

async function visit(name, page, action, extract) {
  current = name;
  const entry = { state: 'not-run' };
  report.pages[name] = entry;
  try {
    await action();
    Object.assign(entry, await waitForPage(page, name.split(':')[0]));
    if (extract) Object.assign(entry, await extract());
  } catch (error) {
    entry.state = 'failed';
    entry.error = String(error && error.message ? error.message : error);
  }
  try {
    await shoot(page, name.replace(':', '-'));
  } catch (error) {
    entry.screenshot_error = String(error);
  }
  return entry;
}

const userDataDir = mkdtempSync(join(tmpdir(), 'spanforge-chromium-'));
const executablePath = process.env.SPANFORGE_CHROMIUM || '/usr/bin/chromium';
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  viewport: { width: 1440, height: 900 },
  timeout: 60_000,
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
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = context.pages()[0] || await context.newPage();
  const where = () => {
    try {
      return new URL(page.url()).hash || '/';
    } catch {
      return page.url();
    }
  };
  page.on('console', (msg) => {
    const entry = { visit: current, page: where(), text: msg.text(), location: msg.location() };
    if (msg.type() === 'error') report.console_errors.push(entry);
    else if (msg.type() === 'warning') report.console_warnings.push(entry);
  });
  page.on('pageerror', (error) => report.page_errors.push({ visit: current, page: where(), text: String(error && error.stack ? error.stack : error) }));
  page.on('requestfailed', (request) => {
    report.failed_requests.push({ visit: current, page: where(), url: request.url(), error: request.failure() ? request.failure().errorText : '' });
  });
  page.on('response', (response) => {
    if (response.status() >= 400) report.bad_responses.push({ visit: current, page: where(), url: response.url(), status: response.status() });
  });

  // Traces: the list, then the error filter chosen in the form.
  const traceRows = () => page.evaluate(extractRows, '[data-testid="trace-row"]').then((rows) => ({ rows }));
  await visit('traces', page, () => page.goto(`${base}/`), traceRows);
  await visit('traces:error', page, () => page.selectOption('[data-testid="filter-status"]', 'error'), traceRows);
  await visit('traces:llm', page, async () => {
    await page.click('[data-testid="filter-clear"]');
    await waitForPage(page, 'traces');
    await page.selectOption('[data-testid="filter-llm"]', 'true');
  }, traceRows);
  await visit('traces:all', page, () => page.click('[data-testid="filter-clear"]'), traceRows);

  // The waterfall of one trace, reached by clicking its row; then a click on one span.
  const waterfall = () => page.evaluate(() => ({
    trace_id: document.querySelector('[data-testid="trace"]')?.dataset.traceId ?? null,
    spans: [...document.querySelectorAll('[data-testid="span-row"]')].map((row) => ({
      span_id: row.dataset.spanId,
      parent_span_id: row.dataset.parentSpanId || null,
      depth: Number(row.dataset.depth),
      status: row.dataset.status,
      name: row.querySelector('.span-name').textContent,
      error_marked: row.querySelector('[data-testid="span-error"]') !== null,
      indent_px: parseFloat(getComputedStyle(row.querySelector('.wf-name')).paddingLeft),
      bar: (() => {
        const bar = row.querySelector('.bar').getBoundingClientRect();
        const lane = row.querySelector('.wf-time').getBoundingClientRect();
        return { left: (bar.left - lane.left) / lane.width, width: bar.width / lane.width };
      })(),
    })),
  }));
  await visit('trace', page, () => page.click(`[data-testid="trace-row"][data-trace-id="${args.trace}"] [data-testid="trace-link"]`), waterfall);
  if (args.span) {
    await visit('trace:span', page, () => page.click(`[data-testid="span-row"][data-span-id="${args.span}"]`), async () => {
      const detail = await page.evaluate(() => {
        const panel = document.querySelector('[data-testid="span-detail"]');
        const logs = document.querySelector('[data-testid="span-logs"]');
        return {
          span_id: panel ? panel.dataset.spanId : null,
          title: panel ? panel.querySelector('h2').textContent : null,
          logs: logs ? [...logs.querySelectorAll('[data-testid="log-row"] .body')].map((body) => body.textContent) : [],
          events: [...document.querySelectorAll('[data-testid="span-events"] li strong')].map((name) => name.textContent),
        };
      });
      detail.attributes = await page.evaluate(extractKv, 'span-attributes');
      detail.resource = await page.evaluate(extractKv, 'span-resource');
      return { detail };
    });
  }

  // LLM cost: reached from the navigation, all time, each grouping.
  const llmTable = async () => ({
    rows: await page.evaluate(extractRows, '[data-testid="llm-row"]'),
    total: (await page.evaluate(extractRows, '[data-testid="llm-total"]'))[0] || null,
  });
  await visit('llm', page, () => page.click('[data-testid="nav-llm"]'));
  await visit('llm:prompt', page, () => page.click('[data-testid="range-all"]'), llmTable);
  await visit('llm:model', page, () => page.click('[data-testid="llm-group-model"]'), llmTable);
  await visit('llm:provider', page, () => page.click('[data-testid="llm-group-provider"]'), llmTable);
  await visit('llm:route', page, () => page.click('[data-testid="llm-group-route"]'), llmTable);
  await visit('llm:prompt-24h', page, async () => {
    await page.click('[data-testid="llm-group-prompt"]');
    await waitForPage(page, 'llm');
    await page.click('[data-testid="range-24h"]');
  }, llmTable);

  // Services, all time.
  await visit('services', page, async () => {
    await page.click('[data-testid="nav-services"]');
    await waitForPage(page, 'services');
    await page.click('[data-testid="range-all"]');
  }, () => page.evaluate(extractRows, '[data-testid="service-row"]').then((rows) => ({ rows })));

  // A trace that does not exist: an error message on the page, not a console error.
  await visit('trace:missing', page, () => page.goto(`${base}/#/traces/${'0'.repeat(32)}`));
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

process.stdout.write(JSON.stringify(report) + '\n');
