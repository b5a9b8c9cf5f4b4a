import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileIdentity, openSameFile } from '../../src/stores/file-identity.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'onbehalf-file-identity-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('file identity', () => {
  it('names the file a path holds, and nothing for memory, URIs and missing paths', () => {
    const path = join(dir, 'a.db');
    writeFileSync(path, 'x');
    expect(fileIdentity(path)).toMatch(/^\d+:\d+$/);
    expect(fileIdentity(path)).toBe(fileIdentity(path));
    expect(fileIdentity(':memory:')).toBeUndefined();
    expect(fileIdentity(`file:${path}`)).toBeUndefined();
    expect(fileIdentity(join(dir, 'missing.db'))).toBeUndefined();
    expect(fileIdentity(dir)).toBeUndefined();
  });

  it('opens the same file only, and closes what it opened when the file was swapped during the open', () => {
    const path = join(dir, 'a.db');
    writeFileSync(path, 'original');
    const identity = fileIdentity(path) as string;
    const opened = {
      closed: false,
      close() {
        this.closed = true;
      },
    };
    expect(openSameFile(path, identity, () => opened)).toBe(opened);

    // Swapped before the open: refused without opening.
    copyFileSync(path, join(dir, 'copy.db'));
    renameSync(join(dir, 'copy.db'), path);
    let calls = 0;
    expect(() => openSameFile(path, identity, () => ({ close() {}, n: ++calls }))).toThrow(
      /is no longer the file the store opened/,
    );
    expect(calls).toBe(0);

    // Swapped during the open: what was opened is closed, and the open refused.
    const second = join(dir, 'b.db');
    writeFileSync(second, 'b');
    const secondIdentity = fileIdentity(second) as string;
    const during = {
      closed: false,
      close() {
        this.closed = true;
      },
    };
    expect(() =>
      openSameFile(second, secondIdentity, () => {
        copyFileSync(second, join(dir, 'b-copy.db'));
        renameSync(join(dir, 'b-copy.db'), second);
        return during;
      }),
    ).toThrow(/replaced or moved while verifying/);
    expect(during.closed).toBe(true);
  });
});
