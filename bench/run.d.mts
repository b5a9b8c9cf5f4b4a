// Types of the runner, for the smoke test (test/bench/bench-smoke.test.ts).
export interface BenchRow {
  section: string;
  name: string;
  value: number;
  unit: string;
  better: 'lower' | 'higher';
  baselineName: string | null;
  ratio: number | null;
  goal: string | null;
  met: boolean | null;
  note: string | null;
}

export interface BenchResult {
  mode: 'quick' | 'full' | 'tiny';
  machine: { cpus: number; model: string; memoryGiB: number; node: string; platform: string };
  timings: Record<string, number>;
  rows: BenchRow[];
}

export const SECTIONS: Record<string, (mode: string) => Promise<BenchRow[]>>;
export const RUNNER: string;
export function runBench(options?: {
  mode?: 'quick' | 'full' | 'tiny';
  only?: string[];
  log?: (message: string) => void;
}): Promise<BenchResult>;
