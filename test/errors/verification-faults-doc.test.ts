import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  fault,
  formatFault,
  VERIFICATION_FAULT_CODES,
  type VerificationFaultCode,
} from '../../src/errors/verification-fault.js';

const doc = readFileSync(new URL('../../docs/verification-faults.md', import.meta.url), 'utf8');
const source = readFileSync(new URL('../../src/errors/verification-fault.ts', import.meta.url), 'utf8');

/** The codes the document's tables list: the first cell of each row, as `code`. */
function documentedCodes(): string[] {
  return [...doc.matchAll(/^\| `([a-z_]+\.[a-z_]+)` \| (.+) \|$/gm)].map((m) => m[1]!);
}

describe('verification fault codes (docs/verification-faults.md)', () => {
  it('every code in the union is documented, and every documented code is in the union', () => {
    const documented = documentedCodes();
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...VERIFICATION_FAULT_CODES].sort());
  });

  it('every code has a TSDoc line in the one list, and the list holds no code twice', () => {
    expect(new Set(VERIFICATION_FAULT_CODES).size).toBe(VERIFICATION_FAULT_CODES.length);
    for (const code of VERIFICATION_FAULT_CODES) {
      expect(source, code).toMatch(new RegExp(`/\\*\\* [^\\n]+ \\*/\\n  '${code.replace('.', '\\.')}',`));
    }
  });

  it('codes are grouped by the documented prefixes', () => {
    const prefixes = new Set(VERIFICATION_FAULT_CODES.map((c) => c.split('.')[0]));
    expect([...prefixes].sort()).toEqual(
      ['checkpoint', 'consistency', 'receipt', 'row', 'store', 'token', 'witness'].sort(),
    );
    for (const prefix of prefixes) expect(doc).toContain(`(\`${prefix}.*\`)`);
  });

  it('formats a fault as its message then its code, and builds faults in {code, origin, seq, message} order', () => {
    const code: VerificationFaultCode = 'row.hash_mismatch';
    const f = fault(code, 'seq 3: hash does not match its contents (row edited)', { origin: 'o', seq: 3 });
    expect(Object.keys(f)).toEqual(['code', 'origin', 'seq', 'message']);
    expect(formatFault(f)).toBe('seq 3: hash does not match its contents (row edited) [row.hash_mismatch]');
    expect(Object.keys(fault('store.schema_changed', 'schema: x'))).toEqual(['code', 'message']);
  });
});
