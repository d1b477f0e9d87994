// Pure helpers for progress reports: a sliding-window rate and the percent figure.

/** Bytes per second over the last `windowMs` of samples; feed it a counter that only grows. */
export class RateMeter {
  private readonly samples: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly windowMs = 5_000) {}

  /** Records that `bytes` had been received in total at time `at` (ms). */
  record(at: number, bytes: number): void {
    const last = this.samples.at(-1);
    if (last && at <= last.at) {
      last.bytes = Math.max(last.bytes, bytes);
      return;
    }
    this.samples.push({ at, bytes });
    // Keep one sample at or before the window start so the window is always fully covered.
    while (this.samples.length > 2 && (this.samples[1]?.at ?? 0) <= at - this.windowMs) {
      this.samples.shift();
    }
  }

  /** Bytes per second, 0 until two samples span some time. */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}

/** Percent with two decimals (like NervesHubLink), or undefined when the total is unknown. */
export function percentOf(bytes: number, total: number | undefined): number | undefined {
  if (total === undefined) return undefined;
  if (total === 0) return 100;
  return Math.min(100, Math.floor((bytes / total) * 10_000) / 100);
}
