/** A progress bar on stderr, only on a terminal and only for stores big enough to wait for. */
export function progressBar(total: number, err: (s: string) => void, minimum = 50_000) {
  const show = Boolean(process.stderr.isTTY) && total >= minimum;
  let last = -1;
  return {
    update: (count: number) => {
      if (!show) return;
      const pct = Math.min(100, Math.floor((count / total) * 100));
      if (pct === last) return;
      last = pct;
      const filled = Math.round(pct / 4);
      err(`\rverifying [${'#'.repeat(filled)}${'.'.repeat(25 - filled)}] ${pct}% ${count}/${total}`);
    },
    done: () => {
      if (show && last >= 0) err('\r\x1b[2K');
    },
  };
}
