import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report } from '../../src/cli/commands/report.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { cli, demoStore, launchChromium, openReport, rowCells, tamperedCopy, tempDir } from './helpers.js';
import { lowContrastTexts, type PageElement } from './in-page.js';

// The README's screenshot is refreshed only on request, so `npm test` never dirties the work tree.
const SCREENSHOT = process.env.ONBEHALF_UPDATE_SCREENSHOT
  ? join(import.meta.dirname, '../../docs/report-screenshot.png')
  : join(mkdtempSync(join(tmpdir(), 'onbehalf-screenshot-')), 'report-screenshot.png');

let dir: string;
let store: string;
let browser: Browser;

beforeAll(async () => {
  dir = tempDir();
  store = await demoStore(dir);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('onbehalf report of the demo store, in headless Chromium', () => {
  it('shows the incident of trigger email:msg-8821: the agent sent mail to a stranger on behalf of tom', async () => {
    const file = join(dir, 'incident.html');
    const run = await cli(['report', store, '--trigger', 'msg-8821', '--out', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`wrote ${file}: 5 record(s); store intact`);

    const { page, requests } = await openReport(browser, file);
    expect(await page.title()).toContain('Incident report: trigger email:msg-8821');
    const rows = await rowCells(page, 'table.timeline tbody tr');
    expect(rows).toHaveLength(5);
    for (const r of rows) expect(r.Trigger).toContain('email:msg-8821');

    const [sent] = await rowCells(page, 'tr[data-action="send_mail"][data-record-type="action"]');
    expect(sent).toMatchObject({ Target: 'stranger@evil.example', Result: '✓ ok', Risk: '2 · high' });
    // Every row says where its who-acted came from; the demo's actions are set in the agent's process.
    expect(sent!.Actor).toBe('Agent inbox-agent nhi:agent-7f3 set by this service (local)');
    expect(sent!['On behalf of']).toMatch(/^tom chain: tom → nhi:agent-7f3$/);
    expect(sent!.Policy).toContain('allow');
    expect(sent!.Approval).toBe('not required');

    const [deleted] = await rowCells(page, 'tr[data-action="delete_mail"]');
    expect(deleted).toMatchObject({ Result: '✕ denied', Risk: '3 · critical' });
    expect(deleted!.Policy).toContain('never-delete-sent-mail');

    const banner = page.locator('#verification');
    expect(await banner.getAttribute('class')).toBe('verify ok');
    expect(await banner.textContent()).toMatch(
      /Store intact\s*25 events in 1 writer log verified; 1 signed checkpoint verified/,
    );
    // The banner comes before the timeline: a reviewer learns whether to trust the rows first.
    const order = await page.$$eval('#verification, table.timeline', (els: PageElement[]) =>
      els.map((e) => e.tagName),
    );
    expect(order).toEqual(['SECTION', 'TABLE']);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('tells human actions from agent actions by label, icon and edge style, not by colour alone', async () => {
    const file = join(dir, 'tom.html');
    expect((await cli(['report', store, '--on-behalf-of', 'tom', '--out', file])).code).toBe(0);
    const { page, requests } = await openReport(browser, file);

    const kinds = await page.$$eval('table.timeline tbody tr', (rows: PageElement[]) =>
      rows.map((tr) => {
        const badge = tr.querySelector('.kind');
        return {
          type: tr.getAttribute('data-actor-type'),
          label: badge?.textContent?.trim(),
          icon: badge?.querySelector('svg') !== null,
          edge: tr.ownerDocument.defaultView.getComputedStyle(tr.firstElementChild!).borderLeftStyle,
        };
      }),
    );
    expect(kinds.filter((k) => k.type === 'human')).toHaveLength(5);
    // The payment adds four agent rows: its approval request and resolution, started and action.
    expect(kinds.filter((k) => k.type === 'agent')).toHaveLength(12);
    for (const k of kinds) {
      expect(k.icon).toBe(true);
      expect(k.label).toBe(k.type === 'human' ? 'Human' : 'Agent');
      expect(k.edge).toBe(k.type === 'human' ? 'solid' : 'dashed');
    }
    const [tomSent] = await rowCells(
      page,
      'tr[data-actor-type="human"][data-action="send_mail"][data-record-type="action"]',
    );
    expect(tomSent).toMatchObject({ Target: 'dana@acme.example', Trigger: 'none (direct)' });
    expect(tomSent!['On behalf of']).toBe('tom acting for themself');

    // The delegation graph: Tom (human) delegates to the agent; each box says what it is in words.
    const graph = page.locator('svg.delegation');
    expect(await graph.getAttribute('role')).toBe('img');
    expect(await page.locator('svg.delegation .node-human').innerHTML()).toContain('human · 3 actions');
    expect(await page.locator('svg.delegation .node-agent').innerHTML()).toContain('agent · 8 actions');
    expect(await page.locator('#dg-desc').textContent()).toBe(
      'Tom (tom), human: 3 actions directly. tom delegates to inbox-agent (nhi:agent-7f3), agent: 8 actions.',
    );
    expect(await page.locator('svg.delegation path.edge').count()).toBe(1);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('shows a tampered store as broken at the top, with origin, first bad seq and reason, and marks the rows after it', async () => {
    const tampered = tamperedCopy(store, dir, 4, 'dana@acme.example');
    const file = join(dir, 'tampered.html');
    const run = await cli(['report', tampered, '--trigger', 'email:msg-8821', '--out', file]);
    // The page is written, and the exit code is verify's: 1, tampered.
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('store TAMPERED');
    expect(run.stderr).toMatch(/warning: store TAMPERED: log onbehalf\/\S+ breaks at seq 4/);

    const { page, requests } = await openReport(browser, file);
    const banner = page.locator('#verification');
    expect(await banner.getAttribute('class')).toBe('verify broken');
    expect(await banner.getAttribute('role')).toBe('alert');
    const text = await banner.textContent();
    expect(text).toMatch(/Store TAMPERED: the chain of onbehalf\/\S+ breaks at seq 4/);
    expect(await banner.locator('.bad-seq').textContent()).toBe('4');
    expect(await banner.locator('.reason').textContent()).toMatch(/seq 4/);
    expect(text).not.toContain('Store intact');

    const flags = await page.$$eval('table.timeline tbody tr', (rows: PageElement[]) =>
      rows.map((tr) => [Number(tr.getAttribute('data-seq')), tr.classList.contains('unverified')]),
    );
    expect(flags).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
      [5, true],
    ]);
    expect(await page.locator('tr.unverified .unverified-tag').first().textContent()).toContain(
      'Not verified: at or after the break at seq 4',
    );
    expect(requests).toEqual([]);
    await page.close();
  });

  it('links each row to its trace in Jaeger when --jaeger-url is given, and not otherwise', async () => {
    const linked = join(dir, 'linked.html');
    const plain = join(dir, 'plain.html');
    expect(
      (
        await cli([
          'report',
          store,
          '--on-behalf-of',
          'tom',
          '--jaeger-url',
          'http://jaeger.local:16686/',
          '--out',
          linked,
        ])
      ).code,
    ).toBe(0);
    expect((await cli(['report', store, '--on-behalf-of', 'tom', '--out', plain])).code).toBe(0);
    const ro = new SqliteAuditStore(store, { readonly: true });
    const rows = await ro.query({ onBehalfOf: 'tom', order: 'asc' });
    await ro.close();

    const { page, requests } = await openReport(browser, linked);
    const hrefs = await page.$$eval('table.timeline tbody tr', (trs: PageElement[]) =>
      trs.map((tr) => tr.querySelector('a.trace-link')?.getAttribute('href')),
    );
    expect(hrefs).toEqual(rows.map((r) => `http://jaeger.local:16686/trace/${r.trace_id}`));
    expect(requests).toEqual([]);
    await page.close();

    const other = await openReport(browser, plain);
    expect(await other.page.locator('a.trace-link').count()).toBe(0);
    expect(await other.page.locator('table.timeline tbody tr td:last-child').first().textContent()).toBe(
      `${rows[0]!.trace_id!.slice(0, 8)}…`,
    );
    await other.page.close();
  });

  it('is accessible: lang, caption, header scopes, a described graph, and AA contrast for every text', async () => {
    const file = join(dir, 'a11y.html');
    const tampered = tamperedCopy(store, dir, 2, 'x@evil.example');
    // Both banners and both kinds of row in one page would need two stores; check each page in turn.
    for (const [src, args] of [
      [store, ['--on-behalf-of', 'tom', '--jaeger-url', 'http://jaeger.local:16686']],
      [tampered, ['--trigger', 'msg-8821']],
    ] as const) {
      expect((await cli(['report', src, ...args, '--out', file])).code).toBe(src === store ? 0 : 1);
      const { page } = await openReport(browser, file);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await page.locator('table.timeline > caption').textContent()).toMatch(
        /audit records?, oldest first/,
      );
      const scopes = await page.$$eval('table.timeline th', (ths: PageElement[]) =>
        ths.map((th) => th.getAttribute('scope')),
      );
      expect(new Set(scopes)).toEqual(new Set(['col', 'row']));
      expect(await page.locator('svg.delegation title#dg-title').count()).toBe(1);
      expect(await page.locator('h1').count()).toBe(1);
      const low = await page.$eval('html', lowContrastTexts);
      expect(low).toEqual([]);
      await page.close();
    }
  });

  it('prints: landscape pages, the table fits the page width, header rows repeat, rows do not split', async () => {
    const file = join(dir, 'print.html');
    expect((await cli(['report', store, '--on-behalf-of', 'tom', '--out', file])).code).toBe(0);
    // A4 landscape minus 10 mm margins is about 1047 CSS pixels wide.
    const { page } = await openReport(browser, file, 1047);
    await page.emulateMedia({ media: 'print' });
    const layout = await page.$eval('html', (html: PageElement) => {
      const style = (selector: string) =>
        html.ownerDocument.defaultView.getComputedStyle(html.querySelector(selector)!);
      return {
        overflow: html.scrollWidth - html.clientWidth,
        thead: style('thead').display,
        row: style('tbody tr').breakInside,
      };
    });
    expect(layout).toEqual({ overflow: 0, thead: 'table-header-group', row: 'avoid' });
    const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    // Landscape A4 is 842 × 595 points.
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 841\.\d+ 59[45]\.\d+\]/);
    await page.close();
  });

  it('saves the screenshot the README shows (docs/report-screenshot.png, 1200 px wide)', async () => {
    const file = join(dir, 'screenshot.html');
    // A fixed time and a plain store name, so the screenshot changes only when the report does.
    const ro = new SqliteAuditStore(store, { readonly: true });
    Object.defineProperty(ro, 'location', { value: 'onbehalf-demo.db' });
    try {
      await report(
        ro,
        { onBehalfOf: 'tom' },
        { out: file, jaegerUrl: 'http://localhost:16686', now: new Date('2026-01-02T09:00:00.000Z') },
        () => {},
        () => {},
      );
    } finally {
      await ro.close();
    }
    const { page } = await openReport(browser, file);
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1200);
    expect(png.readUInt32BE(20)).toBeGreaterThan(900);
  });
});
