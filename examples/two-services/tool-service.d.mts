import type { OnbehalfHandle, OnbehalfOptions } from 'onbehalf';

/** Options of {@link startToolService}: where to listen, a log line sink, and startOnbehalf's options. */
export interface ToolServiceOptions extends OnbehalfOptions {
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

/** A running tool service. */
export interface ToolService {
  readonly url: string;
  readonly onbehalf: OnbehalfHandle;
  close(): Promise<void>;
}

/** Starts onbehalf, then the tool service's HTTP server. */
export function startToolService(options?: ToolServiceOptions): Promise<ToolService>;
