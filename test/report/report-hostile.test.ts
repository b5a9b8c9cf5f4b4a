import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/pipeline/event.js';
import { EVENT_COLUMNS } from '../../src/pipeline/event.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { cli, demoStore, launchChromium, openReport, tempDir } from './helpers.js';
import type { PageElement } from './in-page.js';

// What a hostile email can get an agent to write into the audit trail: each would run script, load
// an image or break out of its cell if the report pasted it into the page as HTML.
const PAYLOAD = {
  target: '<img src=x onerror="document.title=\'pwned-target\'">stranger@evil.example',
  action: '<script>document.title="pwned-action";alert(1)</script>send_mail',
  actor_name: '</td></tr></table><script>window.pwned=1</script>',
  trigger_id: '"><svg onload=alert(2)>msg-8821',
  on_behalf_of: "tom' onmouseover='alert(3)",
  policy_rule: '<iframe src="http://evil.example/"></iframe>',
  approved_by: '<a href="javascript:alert(4)">tom</a>',
  delegation_chain: JSON.stringify(['tom', '<script>alert(5)</script>']),
  trace_id: '"><script>alert(6)</script>',
} as const;

let dir: string;
let store: string;
let browser: Browser;
let plainTraceId: string;

beforeAll(async () => {
  dir = tempDir();
  const demo = await demoStore(dir);
  // Start from a real recorded event, so everything but the hostile fields is what the SDK writes.
  const source = new SqliteAuditStore(demo, { readonly: true });
  const [sent] = await source.query({ action: 'send_mail', recordTypes: ['action'], limit: 1 });
  await source.close();
  plainTraceId = sent!.trace_id!;
  const event = Object.fromEntries(EVENT_COLUMNS.map((c) => [c, sent![c]])) as AuditEvent;
  store = join(dir, 'hostile.db');
  const writer = new SqliteAuditStore(store);
  await writer.append([
    { ...event, ...PAYLOAD, event_id: 'evt-hostile-1', approval_state: 'approved' },
    { ...event, event_id: 'evt-plain-2', trigger_id: PAYLOAD.trigger_id },
  ]);
  await writer.close();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('onbehalf report with hostile values in the store', () => {
  it('never executes stored markup and shows it as text', async () => {
    const file = join(dir, 'hostile.html');
    const run = await cli([
      'report',
      store,
      '--trigger',
      PAYLOAD.trigger_id,
      '--jaeger-url',
      'http://jaeger.local',
      '--out',
      file,
    ]);
    expect(run.code).toBe(0);
    // The markup only ever appears escaped (as `&lt;script…`), never as a tag.
    expect(readFileSync(file, 'utf8')).not.toMatch(/<script|<img|<iframe|<svg onload|<a href="javascript/i);

    const { page, requests, dialogs, console } = await openReport(browser, file);
    const dom = await page.$eval('html', (html: PageElement) => {
      const doc = html.ownerDocument;
      const all = (selector: string) => Array.from(doc.querySelectorAll(selector));
      return {
        title: doc.title,
        pwned: doc.defaultView.pwned,
        scripts: all('script').length,
        images: all('img, iframe').length,
        handlers: all('*').flatMap((el) =>
          Array.from(el.attributes)
            .filter((a) => /^on/i.test(a.name))
            .map((a) => `${el.tagName} ${a.name}`),
        ),
        hrefs: all('a[href]').map((a) => a.getAttribute('href')),
        tables: all('table').length,
      };
    });
    expect(dom).toEqual({
      title: expect.stringMatching(/^Incident report: trigger /),
      pwned: undefined,
      scripts: 0,
      images: 0,
      handlers: [],
      // Only the plain row's real trace id is linked; the hostile row's "trace id" is not.
      hrefs: [`http://jaeger.local/trace/${plainTraceId}`],
      tables: 1,
    });
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    expect(console).toEqual([]);

    // Each payload is on the page, character for character, as text.
    const row = page.locator('tr[data-event-id="evt-hostile-1"]');
    const cell = (n: number) => row.locator(`:scope > :nth-child(${n})`);
    expect(await cell(6).textContent()).toBe(PAYLOAD.target);
    expect(await cell(5).locator('.mono').textContent()).toBe(PAYLOAD.action);
    expect(await cell(2).locator('.who').textContent()).toBe(PAYLOAD.actor_name);
    expect(await cell(4).locator('.mono').textContent()).toBe(`email:${PAYLOAD.trigger_id}`);
    expect(await cell(3).locator('.who').textContent()).toBe(PAYLOAD.on_behalf_of);
    expect(await cell(7).locator('.small').textContent()).toBe(PAYLOAD.policy_rule);
    expect(await cell(8).locator('.small').textContent()).toBe(`by ${PAYLOAD.approved_by}`);
    expect(await row.getAttribute('data-action')).toBe(PAYLOAD.action);
    expect(await page.locator('h1').textContent()).toBe(
      `Incident report: trigger email:${PAYLOAD.trigger_id}`,
    );
    expect(await page.locator('#dg-desc').textContent()).toContain(
      'tom delegates to <script>alert(5)</script>',
    );
    // A trace id that is not 32 hex digits is shown, never linked.
    expect(await cell(11).locator('a').count()).toBe(0);
    await page.close();
  });
});
