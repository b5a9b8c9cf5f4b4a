// Shared fixtures of the report tests: a real demo store in a temp dir, reports written through the
// CLI, and a real headless Chromium that records every request a page makes.
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { type Browser, chromium, type Page } from 'playwright-core';
import { main } from '../../src/cli/cli.js';
import { demo } from '../../src/cli/commands/demo.js';
import { restoreTriggers } from '../adversarial/support.js';
import type { PageElement } from './in-page.js';

export const CHROMIUM = process.env.ONBEHALF_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** A fresh temp directory outside the repo. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'onbehalf-report-'));
}

/** Runs `onbehalf demo --store <dir>/onbehalf-demo.db` and returns the store path. */
export async function demoStore(dir: string): Promise<string> {
  const store = join(dir, 'onbehalf-demo.db');
  await demo(store, () => {});
  return store;
}

/**
 * A copy of `store` whose row `seq` was rewritten after the fact: the append-only triggers dropped
 * (as an attacker with file access would) and the target edited to cover the tracks.
 */
export function tamperedCopy(store: string, dir: string, seq: number, target: string): string {
  const copy = join(dir, 'tampered.db');
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(`${store}${suffix}`)) copyFileSync(`${store}${suffix}`, `${copy}${suffix}`);
  }
  const db = new Database(copy);
  try {
    db.exec('DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete;');
    const changed = db.prepare('UPDATE audit_events SET target = ? WHERE seq = ?').run(target, seq).changes;
    if (changed !== 1) throw new Error(`tamper: row seq ${seq} not found`);
    // Put back as they were: a dropped trigger is reported on its own, and this is about the row.
    restoreTriggers(db);
  } finally {
    db.close();
  }
  return copy;
}

/** Runs the CLI in-process; returns its exit code and what it printed. */
export async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

/** Launches headless Chromium with the flags this closed network needs to start quickly. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
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
}

/** An opened report and every request its page made other than loading the file itself. */
export interface OpenedReport {
  page: Page;
  /** Requests other than the report file: must stay empty, the report is self-contained. */
  requests: string[];
  /** Dialogs (alert, confirm) the page tried to open: a sign of executed script. */
  dialogs: string[];
  /** Page errors and console messages. */
  console: string[];
}

/** Opens `file` in a new page of `browser` at `width` pixels. */
export async function openReport(browser: Browser, file: string, width = 1200): Promise<OpenedReport> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const url = pathToFileURL(file).href;
  const opened: OpenedReport = { page, requests: [], dialogs: [], console: [] };
  page.on('request', (r) => {
    if (r.url() !== url) opened.requests.push(r.url());
  });
  page.on('dialog', (d) => {
    opened.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => opened.console.push(m.text()));
  page.on('pageerror', (e) => opened.console.push(e.message));
  await page.goto(url, { waitUntil: 'load' });
  return opened;
}

/** The text of each matching timeline row's cells, keyed by column header. */
export async function rowCells(page: Page, selector: string): Promise<Record<string, string>[]> {
  return page.$$eval(selector, (rows: PageElement[]) =>
    rows.map((tr) => {
      const headers = Array.from(tr.ownerDocument.querySelectorAll('table.timeline thead th')).map(
        (th) => th.textContent ?? '',
      );
      // The rendered text, as a reader sees it: block-level parts of a cell are separated by a space.
      // biome-ignore lint/performance/useDomNodeTextContent: layout-aware text is the point here
      const cells = Array.from(tr.children).map((c) => c.innerText.replace(/\s+/g, ' ').trim());
      return Object.fromEntries(headers.map((h, i) => [h, cells[i] ?? '']));
    }),
  );
}
