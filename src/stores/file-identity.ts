import { statSync } from 'node:fs';

/**
 * Which file a path names now: its device and inode, or undefined when it names no file (an
 * in-memory database, a `file:` URI, a path that is gone). A connection that opens a store by path
 * again (a verifier's worker thread) compares it with the one the store opened, so a file swapped in
 * under the same name (a clean copy over a tampered one) is never what gets verified.
 */
export function fileIdentity(path: string): string | undefined {
  if (path === ':memory:' || path.startsWith('file:')) return undefined;
  try {
    const s = statSync(path);
    return s.isFile() ? `${s.dev}:${s.ino}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens `path` with `open` only if it is the file `identity` names, before and after the open (so a
 * swap during the open is caught too); otherwise closes what it opened and throws, naming the path.
 */
export function openSameFile<T extends { close(): unknown }>(
  path: string,
  identity: string,
  open: () => T,
): T {
  const replaced = () =>
    new Error(`${path} is no longer the file the store opened (replaced or moved while verifying)`);
  if (fileIdentity(path) !== identity) throw replaced();
  const db = open();
  if (fileIdentity(path) !== identity) {
    db.close();
    throw replaced();
  }
  return db;
}
