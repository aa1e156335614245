/** One served request, as the server saw it (absolute ms, see `clock`). */
export interface Served {
  pid: string;
  channels: string[];
  t0: number;
  start: number;
  end: number;
}

export interface InflightServer {
  url: string;
  /** The most requests that were in flight at once, per channel. */
  maxInFlight(): Record<string, number>;
  /** Requests served so far. */
  total(): number;
  served(): readonly Served[];
  reset(): void;
  close(): Promise<void>;
}

export declare const clock: () => number;
export declare const startInflightServer: () => Promise<InflightServer>;
