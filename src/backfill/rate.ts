/**
 * Pacing for backfill, so a run cannot swamp a clinical PACS: at most `perSecond` objects per
 * second across every worker (each object waits for its slot; the first goes at once), and
 * sleeps that end early when the run is stopped.
 */

export class RateLimiter {
  private next = 0;
  private readonly intervalMs: number;

  /** `perSecond` ≤ 0 or Infinity: no limit. */
  constructor(perSecond: number) {
    this.intervalMs = perSecond > 0 && Number.isFinite(perSecond) ? 1000 / perSecond : 0;
  }

  /** Waits for the next slot. Resolves early (without throwing) when `signal` aborts. */
  async take(signal?: AbortSignal): Promise<void> {
    if (this.intervalMs === 0) return;
    const now = performance.now();
    const slot = Math.max(now, this.next);
    this.next = slot + this.intervalMs;
    if (slot > now) await sleep(slot - now, signal);
  }
}

/** setTimeout as a promise; resolves early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
