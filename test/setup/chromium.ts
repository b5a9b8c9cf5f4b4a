// Global setup of `npm test`: the report tests open the HTML report in a real headless Chromium
// (Debian's package, /usr/bin/chromium). On a fresh machine this installs it where it can (root with
// apt-get), and otherwise stops the run with one line naming the command, before any test starts.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.ONBEHALF_TEST_CHROMIUM ?? '/usr/bin/chromium';
const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends chromium';

export default function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const root = process.getuid?.() === 0;
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].some((p) => existsSync(p));
  if (root && aptGet && !process.env.ONBEHALF_TEST_CHROMIUM) {
    process.stderr.write(
      `npm test: the report tests need Chromium; installing Debian's package (${INSTALL})\n`,
    );
    try {
      execFileSync('sh', ['-c', `${INSTALL} >/dev/null`], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch {
      // Reported below, with the command to run by hand.
    }
    if (existsSync(CHROMIUM)) return;
  }
  throw new Error(
    `npm test: the report tests need Chromium at ${CHROMIUM}; install it with: sudo sh -c '${INSTALL}' (or set ONBEHALF_TEST_CHROMIUM to a Chromium binary)`,
  );
}
