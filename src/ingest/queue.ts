/**
 * An ingest queue shared by the requests of one network receiver (every DIMSE association of
 * the SCP; every STOW-RS request of the app): at most `concurrency` objects are parsed and
 * committed at once; the others wait in FIFO order. When `limit` objects are waiting the
 * queue is saturated: the SCP then stops reading from the sockets of callers that add more
 * (TCP back-pressure) until there is room again, so received data never piles up without
 * bound. A C-STORE response is only sent when its object's task has finished, so a caller
 * that waits for responses (storescu, most modalities) is slowed down by the queue itself.
 */
export class IngestQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly roomListeners = new Set<() => void>();

  constructor(
    readonly concurrency: number,
    readonly limit: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("IngestQueue: concurrency must be ≥ 1");
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("IngestQueue: limit must be ≥ 1");
  }

  /** Objects being ingested now. */
  get active(): number {
    return this.running;
  }

  /** Objects received and waiting for a slot. */
  get pending(): number {
    return this.waiting.length;
  }

  /** True when `limit` objects are waiting: callers should stop reading input. */
  get saturated(): boolean {
    return this.waiting.length >= this.limit;
  }

  /** Calls `listener` once the queue is no longer saturated (immediately if it is not). */
  whenRoom(listener: () => void): void {
    if (!this.saturated) listener();
    else this.roomListeners.add(listener);
  }

  /** Runs `task` when a slot is free; resolves or rejects with the task. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes to the next task: `running` is unchanged
    else this.running--;
    if (!this.saturated && this.roomListeners.size > 0) {
      const listeners = [...this.roomListeners];
      this.roomListeners.clear();
      for (const l of listeners) l();
    }
  }
}
