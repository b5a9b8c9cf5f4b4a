// A request written byte by byte on a raw socket: nothing adds or fixes headers on the way (no
// instrumentation, no propagator), as an attacker's client sends it.
import { connect } from 'node:net';

export function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    const lines = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n${lines}\r\n`);
  });
}
