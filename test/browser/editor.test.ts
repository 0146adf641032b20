/**
 * The editor as users see it, in headless Debian chromium: import every example from the Import >
 * Examples menu, edit each node (invalid values turn red with a reason), test the connection, deploy,
 * and watch status dots and debug messages prove that data flowed through the local server.
 *
 * PROFICLOUD_SCREENSHOTS=docs/images writes the README screenshots (scripts/browser-screenshots.mjs);
 * otherwise they go to a temporary directory so every run still exercises that step.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { NODE_RED_MAJOR } from '../helpers/node-red-module';
import { needTool } from '../helpers/needs';
import { CHROMIUM, ROOT, freePort, startStack, type Stack } from './harness';

const EXAMPLES = ['end-to-end', 'query', 'write', 'batch', 'stream'] as const;
const PACKAGE = '@kairos-edge/node-red-proficloud';

/** A screenshot without the transient notifications (import/deploy toasts) over the dialog. */
async function shoot(page: Page, path: string): Promise<void> {
  // Hidden, not removed: Node-RED removes them itself when their timer runs out.
  await page.evaluate(() => $('.red-ui-notification').css('visibility', 'hidden'));
  await page.screenshot({ path });
}

function statusLabel(page: Page, id: string): Locator {
  return page.locator(`g[id="${id}"] .red-ui-flow-node-status-label`);
}

function nodeGroup(page: Page, id: string): Locator {
  return page.locator(`g.red-ui-flow-node-group[id="${id}"]`);
}

async function showWorkspace(page: Page, id: string): Promise<void> {
  await page.evaluate((ws) => RED.workspaces.show(ws), id);
}

async function tabOf(page: Page, nodeId: string): Promise<string> {
  return page.evaluate((n) => RED.nodes.node(n)?.z ?? '', nodeId);
}

async function openNode(page: Page, id: string): Promise<void> {
  await showWorkspace(page, await tabOf(page, id));
  await nodeGroup(page, id).locator('rect.red-ui-flow-node').dblclick();
  await page.locator('#dialog-form').waitFor({ state: 'visible' });
}

/** A TypedInput hides the original input; users type into the visible one beside it. */
function typedInputOf(page: Page, selector: string): Locator {
  return page.locator(`${selector} + .red-ui-typedInput-container input.red-ui-typedInput-input`);
}

async function isTyped(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).evaluate((el) => el.classList.contains('red-ui-typedInput'));
}

/** Types into a field and leaves it, so the editor re-validates it. */
async function setField(page: Page, selector: string, value: string): Promise<void> {
  const field = (await isTyped(page, selector)) ? typedInputOf(page, selector) : page.locator(selector);
  await field.fill(value);
  await field.dispatchEvent('change');
  await field.blur();
}

async function isRed(page: Page, selector: string): Promise<boolean> {
  const target = (await isTyped(page, selector)) ? page.locator(`${selector} + .red-ui-typedInput-container`) : page.locator(selector);
  return target.evaluate((el) => el.classList.contains('input-error'));
}

/** Waits for the validator's message in the tooltip Node-RED shows on the red field. */
async function expectReason(page: Page, selector: string, reason: RegExp): Promise<void> {
  await page.mouse.move(5, 5);
  if (await isTyped(page, selector)) {
    // The tooltip hangs on the hidden original input, which the mouse cannot reach.
    await page.evaluate((sel) => $(sel).trigger('mouseenter'), selector);
  } else {
    await page.locator(selector).hover();
  }
  await page.locator('.red-ui-popover-content').filter({ hasText: reason }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.mouse.move(5, 5);
  await page.evaluate((sel) => $(sel).trigger('mouseleave'), selector);
}

async function expectRed(page: Page, selector: string, value: string, reason: RegExp): Promise<void> {
  await setField(page, selector, value);
  assert.ok(await isRed(page, selector), `${selector} = ${JSON.stringify(value)} should be marked invalid`);
  await expectReason(page, selector, reason);
}

async function expectValid(page: Page, selector: string, value: string): Promise<void> {
  await setField(page, selector, value);
  assert.ok(!(await isRed(page, selector)), `${selector} = ${JSON.stringify(value)} should be valid`);
}

/**
 * Puts text in a field and releases a key there, which is what makes the autoComplete widget ask.
 * (Playwright's per-key typing loses the keys after the suggestion menu first opens in headless chromium.)
 */
async function typeForSuggestions(input: Locator, text: string): Promise<void> {
  await input.fill(text);
  await input.press('End');
}

/**
 * Types until the suggestion menu offers `expected`: on a busy machine a key event can reach the field
 * before its autocomplete is listening, and then no menu opens. Bounded: a few tries, then the last error.
 */
async function typeUntilSuggested(input: Locator, text: string, expected: string): Promise<Locator> {
  const item = input.page().locator('.red-ui-autoComplete-container li', { hasText: expected }).first();
  for (let attempt = 1; ; attempt++) {
    await typeForSuggestions(input, text);
    try {
      await item.waitFor({ timeout: 10_000 });
      return item;
    } catch (err) {
      if (attempt >= 4) throw err;
      await input.press('Escape');
    }
  }
}

describe(`editor in a real browser (chromium + Node-RED ${NODE_RED_MAJOR})`, function () {
  this.timeout(300_000);
  // Each step builds on the one before (imported flows, fixed config nodes, a deployed flow).
  this.bail(true);
  let stack: Stack | undefined;
  let page: Page;
  let shots: string;
  let tempShots: string | undefined;
  const tabs: Record<string, string> = {};
  const configsFixed = new Set<string>();

  before(async function () {
    needTool(this, existsSync(CHROMIUM), CHROMIUM, 'apt-get install chromium; .ci/run installs it');
    const wanted = process.env.PROFICLOUD_SCREENSHOTS;
    if (wanted) {
      shots = resolve(ROOT, wanted);
      mkdirSync(shots, { recursive: true });
    } else {
      shots = tempShots = mkdtempSync(join(tmpdir(), 'proficloud-shots-'));
    }
    stack = await startStack();
    page = stack.page;
    await page.goto(stack.editorUrl);
    await page.locator('.red-ui-palette-node[data-palette-type="proficloud-query"]').waitFor({ state: 'visible', timeout: 30_000 });
  });

  after(async function () {
    await stack?.stop();
    if (tempShots) rmSync(tempShots, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && stack) {
      await page.screenshot({ path: join(tmpdir(), 'proficloud-browser-failure.png') }).catch(() => undefined);
      console.log(`      screenshot: ${join(tmpdir(), 'proficloud-browser-failure.png')}\n      Node-RED log tail:\n${stack.log().slice(-2000)}`);
    }
  });

  it('shows the four flow nodes in the palette with their labels and help', async function () {
    for (const [type, label] of [
      ['proficloud-query', 'query'],
      ['proficloud-write', 'write'],
      ['proficloud-batch', 'batch'],
      ['proficloud-stream', 'stream'],
    ]) {
      const entry = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal((await entry.locator('.red-ui-palette-label').textContent())?.trim(), label);
    }
    // Help text is loaded for every node, config included.
    const help = await page.evaluate(() =>
      ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch', 'proficloud-stream'].map((t) => $(`script[data-help-name="${t}"]`).html()?.length ?? 0),
    );
    for (const length of help) assert.ok(length > 200, `help text too short: ${help.join(', ')}`);
  });

  it('imports each example from Import > Examples into its own flow', async function () {
    for (const example of EXAMPLES) {
      await page.locator('#red-ui-header-button-sidemenu').click();
      await page.locator('#menu-item-import').click();
      const dialog = page.locator('#red-ui-clipboard-dialog-import-tabs');
      await dialog.waitFor({ state: 'visible' });
      await page.locator('#red-ui-clipboard-dialog-import-tabs li').filter({ hasText: 'Examples' }).click();
      const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      const module = tree.locator('.red-ui-treeList-label', { hasText: PACKAGE });
      await module.click();
      // Selecting the example loads it and enables Import. On a busy machine a click can land while the tree is
      // still redrawing and select nothing, so click again until Import is enabled.
      const item = tree.locator('.red-ui-treeList-label', { hasText: new RegExp(`^\\s*${example}\\s*$`) });
      for (let attempt = 1; ; attempt++) {
        const shown = await item.waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false);
        if (!shown) {
          // The folder click was lost or closed a folder that was already open: click it again.
          assert.ok(attempt < 8, `the ${example} example did not show in the tree`);
          await module.click();
          continue;
        }
        await item.click();
        const enabled = await page
          .locator('#red-ui-clipboard-dialog-ok:enabled')
          .waitFor({ state: 'visible', timeout: 5000 })
          .then(() => true, () => false);
        if (enabled) break;
        assert.ok(attempt < 8, `Import stayed disabled after selecting the ${example} example ${attempt} times`);
      }
      await page.locator('#red-ui-clipboard-dialog-import-opt-new').click();
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      if (example !== EXAMPLES[0]) {
        // All examples share one config node, already imported with the first: Node-RED says so, and
        // "View nodes..." > "Import selected" imports the rest with their ids, leaving the existing config
        // node (unselected by default) in place, as the examples' comment tells users.
        const notice = page.locator('.red-ui-notification', { hasText: 'already exist in your workspace' });
        await notice.locator('button', { hasText: 'View nodes' }).click();
        await page.locator('#red-ui-clipboard-dialog-import-conflict').click();
      }
      await page.locator('#red-ui-clipboard-dialog-ok').waitFor({ state: 'hidden' });
      // Nodes without a tab of their own follow the mouse until dropped on the canvas; the drop only
      // takes once the editor has attached them to the pointer, so click until they are in the workspace.
      const prefix = { 'end-to-end': 'e2e.', query: 'qx.', write: 'wx.', batch: 'bx.', stream: 'sx.' }[example];
      let ids: string[] = [];
      for (let attempt = 0; attempt < 25; attempt++) {
        await page.mouse.move(450 + attempt, 220);
        await page.mouse.click(450 + attempt, 220);
        ids = await page.evaluate(() => {
          const out: string[] = [];
          RED.nodes.eachNode((n) => {
            out.push(n.id);
          });
          return out;
        });
        if (ids.some((id) => id.startsWith(prefix))) break;
        await page.waitForTimeout(200);
      }
      assert.ok(ids.some((id) => id.startsWith(prefix)), `nothing from ${example} was imported: ${ids.join(', ')}`);
      const nodeId = { 'end-to-end': 'e2e.w', query: 'qx.q1', write: 'wx.w', batch: 'bx.b', stream: 'sx.s' }[example];
      tabs[example] = await tabOf(page, nodeId);
      await showWorkspace(page, tabs[example]);
      await nodeGroup(page, nodeId).waitFor({ state: 'visible' });
    }
    assert.equal(new Set(Object.values(tabs)).size, EXAMPLES.length, 'every example has its own flow');
    const configs = await page.evaluate(() => {
      const out: string[] = [];
      RED.nodes.eachConfig((n) => {
        if (n.type === 'proficloud-config') out.push(n.id);
      });
      return out;
    });
    assert.deepEqual(configs, ['proficloud.example.server'], 'five examples, one shared server config node');
  });

  /** Opens the config node from the node dialog's pencil button, points it at the local server, and tests it. */
  async function fixConfig(nodeId: string, screenshot?: string): Promise<void> {
    const configId = await page.evaluate((n) => (RED.nodes.node(n) as unknown as { server: string }).server, nodeId);
    if (configsFixed.has(configId)) return;
    await page.locator('#node-input-btn-server-edit').click();
    await page.locator('#node-config-input-urls').waitFor({ state: 'visible' });
    await expectRed(page, '#node-config-input-urls', 'ftp://plant-server', /http\(s\) URL/);
    await expectRed(page, '#node-config-input-timeZone', 'Mars/Olympus', /IANA/);
    await expectValid(page, '#node-config-input-timeZone', 'UTC');
    await expectRed(page, '#node-config-input-timeout', '-5', /positive number of seconds/);
    await expectValid(page, '#node-config-input-timeout', '10');
    const result = page.locator('#node-config-proficloud-test-result');
    if (configsFixed.size === 0) {
      // A closed port first.
      const closed = await freePort();
      await expectValid(page, '#node-config-input-urls', `http://127.0.0.1:${closed}`);
      await page.locator('#node-config-proficloud-test').click();
      // The exact cause (code and address), not just "failed".
      await result.filter({ hasText: /Failed: ENETWORK: .*127\.0\.0\.1/ }).waitFor();
      assert.ok(await result.evaluate((el) => el.classList.contains('proficloud-test-fail')));
    }
    await expectValid(page, '#node-config-input-urls', stack!.kairos.url);
    await page.locator('#node-config-proficloud-test').click();
    await result.filter({ hasText: /Connected: KairosDB 1\.3\.0/ }).waitFor();
    assert.ok(await result.evaluate((el) => el.classList.contains('proficloud-test-ok')));
    await result.scrollIntoViewIfNeeded();
    if (screenshot) await shoot(page, join(shots, screenshot));
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-urls').waitFor({ state: 'detached' });
    configsFixed.add(configId);
  }

  async function closeDialog(): Promise<void> {
    await page.locator('#node-dialog-ok').click();
    await page.locator('#dialog-form').waitFor({ state: 'detached' });
  }

  it('write node: validation, the config node and Test connection', async function () {
    await openNode(page, 'e2e.w');
    await fixConfig('e2e.w', 'config-dialog.png');
    await expectRed(page, '#node-input-maxBatchPoints', 'lots', /"lots".*whole number/);
    await expectValid(page, '#node-input-maxBatchPoints', '500');
    await expectRed(page, '#node-input-maxDelay', '-1', /0 or more seconds/);
    await expectValid(page, '#node-input-maxDelay', '2');
    await shoot(page, join(shots, 'write-dialog.png'));
    await closeDialog();
    await openNode(page, 'wx.w');
    await fixConfig('wx.w');
    await closeDialog();
  });

  it('query node: typed inputs, aggregator list with per-row checks, raw JSON round trip', async function () {
    await openNode(page, 'qx.q2');
    await fixConfig('qx.q2');
    await expectRed(page, '#node-input-start', 'yesterday-ish', /"yesterday-ish" is not a relative time/);
    await expectValid(page, '#node-input-start', '1h');
    await expectRed(page, '#node-input-limit', '2.5', /whole number/);
    await expectValid(page, '#node-input-limit', '');
    await expectRed(page, '#node-input-tags', 'site', /key=value/);
    await expectValid(page, '#node-input-tags', '');

    const rows = page.locator('#node-input-aggregator-list .proficloud-agg-row');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().locator('.proficloud-agg-name').inputValue(), 'avg');
    assert.equal(await rows.first().locator('.proficloud-agg-value').inputValue(), '1');
    assert.equal(await rows.first().locator('.proficloud-agg-unit').inputValue(), 'minutes');

    // A percentile without its parameter is flagged in its row, then fixed.
    await page.locator('#dialog-form .red-ui-editableList-addButton').click();
    const added = rows.nth(1);
    await added.locator('.proficloud-agg-name').selectOption('percentile');
    await added.locator('.proficloud-agg-value').fill('-2');
    assert.match((await added.locator('.proficloud-agg-problem').textContent()) ?? '', /sampling value "-2" must be a positive number/);
    assert.ok(await added.locator('.proficloud-agg-value').evaluate((el) => el.classList.contains('input-error')));
    await added.locator('.proficloud-agg-value').fill('5');
    assert.match((await added.locator('.proficloud-agg-problem').textContent()) ?? '', /parameters need percentile/);
    await added.locator('.proficloud-agg-params').fill('{"percentile":0.95}');
    assert.equal((await added.locator('.proficloud-agg-problem').textContent()) ?? '', '');
    await shoot(page, join(shots, 'query-dialog.png'));

    // Raw JSON starts from the list.
    await page.locator('#node-input-aggMode').selectOption('json');
    const json = JSON.parse(await page.locator('#node-input-aggJson').inputValue()) as unknown;
    assert.deepEqual(json, [
      { name: 'avg', sampling: { value: 1, unit: 'minutes' } },
      { name: 'percentile', sampling: { value: 5, unit: 'minutes' }, percentile: 0.95 },
    ]);
    await page.locator('#node-input-aggMode').selectOption('list');
    // Keep the example as shipped: drop the added row again.
    await page.locator('#node-input-aggregator-list > li').nth(1).locator('.red-ui-editableList-item-remove').click();
    await rows.nth(1).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 1);
    await closeDialog();
    const label = await nodeGroup(page, 'qx.q2').locator('.red-ui-flow-node-label').textContent();
    assert.match(label ?? '', /avg per minute/);
  });

  it('stream and batch nodes: validation and labels', async function () {
    await openNode(page, 'sx.s');
    await fixConfig('sx.s');
    await expectRed(page, '#node-input-interval', '50', /"50" must be a number of milliseconds, at least 100/);
    await expectValid(page, '#node-input-interval', '1000');
    await expectRed(page, '#node-input-window', 'forever', /"forever" must be a duration/);
    await expectValid(page, '#node-input-window', '10m');
    await expectRed(page, '#node-input-horizon', '8d', /up to 7 days/);
    await expectValid(page, '#node-input-horizon', '1h');
    // Chart output: the dialog says how to set up ui-chart; a window shorter than the horizon is called out.
    const problems = page.locator('#proficloud-stream-problems');
    await page.locator('#node-input-output').selectOption('chart');
    await problems.waitFor({ state: 'visible' });
    assert.match(await problems.innerText(), /key "series"/);
    assert.match(await problems.innerText(), /older than the window are not drawn/);
    await page.locator('#node-input-output').selectOption('rows');
    await problems.waitFor({ state: 'hidden' });
    await expectRed(page, '#node-input-metrics', ' , ', /at least one metric/);
    await expectValid(page, '#node-input-metrics', 'demo.temperature, demo.pressure');
    await shoot(page, join(shots, 'stream-dialog.png'));
    await closeDialog();
    assert.equal((await nodeGroup(page, 'sx.s').locator('.red-ui-flow-node-label').textContent())?.trim(), 'demo.temperature, demo.pressure every 1 s');

    await openNode(page, 'bx.b');
    await fixConfig('bx.b');
    await expectRed(page, '#node-input-batchSize', '0', /"0" must be a positive whole number/);
    await expectValid(page, '#node-input-batchSize', '5000');
    await expectRed(page, '#node-input-timestampColumn', '', /timestamp column/);
    await expectValid(page, '#node-input-timestampColumn', 'Timestamp');
    await shoot(page, join(shots, 'batch-dialog.png'));
    await closeDialog();
    assert.match((await nodeGroup(page, 'bx.b').locator('.red-ui-flow-node-label').textContent()) ?? '', /batch write 5000/);

    await openNode(page, 'e2e.s');
    await fixConfig('e2e.s');
    await closeDialog();
    // The examples share one config node: fixing it once pointed all five at the local server.
    assert.equal(configsFixed.size, 1);
  });

  it('deploys; status dots and debug messages show data flowing', async function () {
    await page.locator('#red-ui-header-button-deploy').click();
    await page.locator('.red-ui-notification', { hasText: /Successfully deployed/ }).waitFor();
    await page.evaluate(() => RED.sidebar.show('debug'));
    await showWorkspace(page, tabs['end-to-end']);
    // The whole end-to-end flow fits beside the debug sidebar.
    await page.evaluate(() => {
      RED.actions.invoke('core:zoom-out');
      RED.actions.invoke('core:zoom-out');
    });
    // The writer reports each request; the stream emits the written points back.
    await statusLabel(page, 'e2e.w').filter({ hasText: /wrote \d+/ }).waitFor({ state: 'visible', timeout: 20_000 });
    await statusLabel(page, 'e2e.s').filter({ hasText: / [1-9]\d* points/ }).waitFor({ state: 'visible', timeout: 20_000 });
    const dot = await page.locator('g[id="e2e.s"] .red-ui-flow-node-status').getAttribute('class');
    assert.match(dot ?? '', /red-ui-flow-node-status-dot-green/);
    await page.locator('.red-ui-debug-msg').filter({ hasText: 'node: new points' }).filter({ hasText: /array\[[1-9]/ }).first().waitFor({ timeout: 20_000 });
    await page.locator('.red-ui-debug-msg').filter({ hasText: 'node: write report' }).filter({ hasText: /written: [1-9]/ }).first().waitFor({ timeout: 20_000 });

    // Query branch: 10-second averages as chart points.
    await nodeGroup(page, 'e2e.i3').locator('.red-ui-flow-node-button').click();
    await page.locator('.red-ui-debug-msg').filter({ hasText: 'node: chart points' }).filter({ hasText: /array\[[1-9]/ }).first().waitFor();
    await statusLabel(page, 'e2e.q').filter({ hasText: /[1-9]\d* series/ }).waitFor({ state: 'visible' });
    await shoot(page, join(shots, 'demo-flow.png'));

    // Batch example: CSV text in, a write report with the written count out.
    await showWorkspace(page, tabs.batch);
    await page.evaluate(() => RED.actions.invoke('core:zoom-reset'));
    await nodeGroup(page, 'bx.i1').locator('.red-ui-flow-node-button').click();
    await page.locator('.red-ui-debug-msg').filter({ hasText: 'node: write report' }).filter({ hasText: /written: 5\b/ }).first().waitFor();
    await statusLabel(page, 'bx.b').filter({ hasText: /wrote \d+/ }).waitFor({ state: 'visible' });
  });

  it('suggests metric names from the deployed server while typing', async function () {
    await openNode(page, 'e2e.q');
    const input = typedInputOf(page, '#node-input-metrics');
    await input.fill('');
    await typeUntilSuggested(input, 'plc.te', 'plc.temperature');
    const menu = page.locator('.red-ui-autoComplete-container');
    // Suggestions follow the prefix once the last keystroke's answer arrived.
    await menu.locator('li', { hasText: 'plc.pressure' }).waitFor({ state: 'detached' });
    await menu.locator('li', { hasText: 'plc.temperature' }).first().click();
    assert.equal(await input.inputValue(), 'plc.temperature');
    await (await typeUntilSuggested(input, 'plc.temperature, plc.p', 'plc.pressure')).click();
    assert.equal(await input.inputValue(), 'plc.temperature, plc.pressure');
    await closeDialog();

    await openNode(page, 'sx.s');
    const streamInput = page.locator('#node-input-metrics');
    await streamInput.fill('');
    await typeUntilSuggested(streamInput, 'demo.', 'demo.temperature');
    await page.keyboard.press('Escape');
    await streamInput.fill('demo.temperature, demo.pressure');
    await closeDialog();
  });

  it('the write and batch dialogs work with the config node set disabled (each HTML loads the shared script)', async function () {
    const admin = async (path: string, method: string, body: unknown): Promise<void> => {
      const res = await fetch(`${stack!.editorUrl}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(body),
      });
      assert.ok(res.ok, `${method} ${path}: HTTP ${res.status} ${await res.text()}`);
      await res.body?.cancel().catch(() => undefined);
    };
    // A set whose types are in use cannot be disabled: deploy a flow without config nodes first.
    const flows = [
      { id: 'solo.tab', type: 'tab', label: 'solo' },
      { id: 'solo.w', type: 'proficloud-write', z: 'solo.tab', x: 200, y: 80, server: '', maxBatchPoints: 500, maxDelay: 1, outbox: true, outboxMaxMB: 100, overflow: 'drop-oldest', report: false, outputs: 0, wires: [] },
      { id: 'solo.b', type: 'proficloud-batch', z: 'solo.tab', x: 200, y: 160, server: '', timestampColumn: 'Timestamp', batchSize: 5000, csvDelimiter: ',', maxRows: 100000, outbox: false, outboxMaxMB: 100, overflow: 'drop-newest', report: true, outputs: 1, wires: [[]] },
    ];
    await admin('/flows', 'POST', { flows });
    await admin(`/nodes/${PACKAGE}/proficloud-config`, 'PUT', { enabled: false });
    try {
      await page.goto(stack!.editorUrl);
      await page.locator('.red-ui-palette-node[data-palette-type="proficloud-write"]').waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await page.evaluate(() => !!RED.nodes.getType('proficloud-config')), false, 'the config type is not loaded');
      for (const [id, outbox, overflow] of [['solo.w', true, 'drop-oldest'], ['solo.b', false, 'drop-newest']] as const) {
        await openNode(page, id);
        assert.equal(await page.locator('#node-input-outbox').isChecked(), outbox, `${id} outbox`);
        assert.equal(await page.locator('#node-input-overflow').inputValue(), overflow, `${id} overflow`);
        // The shared rows carry the node's own wording, and the overflow row follows the outbox checkbox.
        assert.match((await page.locator('label[for="node-input-outboxMaxMB"]').innerText()).trim(), /\w{3}/);
        assert.equal(await page.locator('.proficloud-row-outbox').isVisible(), outbox, `${id} overflow row`);
        await page.locator('#node-input-outbox').click();
        assert.equal(await page.locator('.proficloud-row-outbox').isVisible(), !outbox, `${id} overflow row after a click`);
        await expectRed(page, '#node-input-outboxMaxMB', '0', /"0".*MB/);
        await page.locator('#node-dialog-cancel').click();
        await page.locator('#dialog-form').waitFor({ state: 'detached' });
      }
    } finally {
      await admin(`/nodes/${PACKAGE}/proficloud-config`, 'PUT', { enabled: true });
    }
  });

  it('leaves no page errors or console errors behind', function () {
    assert.deepEqual(stack?.problems ?? [], []);
  });
});

// The editor's globals, only as far as these tests use them.
declare const RED: {
  workspaces: { show(id: string): void; active(): string };
  nodes: {
    node(id: string): { id: string; z?: string } | null;
    getType(type: string): unknown;
    eachNode(cb: (n: { id: string }) => void): void;
    eachConfig(cb: (n: { id: string; type: string }) => void): void;
  };
  sidebar: { show(id: string): void };
  actions: { invoke(name: string): void };
};
declare const $: (selector: string) => { html(): string | undefined; trigger(event: string): void; css(name: string, value: string): void };
