/**
 * A fixed-bucket latency histogram in microseconds: 10 µs buckets up to 100 ms, then 1 ms buckets
 * up to 10 s, then one overflow bucket. Cheap to record into and to merge across processes.
 */
const FINE_US = 10;
const FINE_LIMIT_US = 100_000;
const COARSE_US = 1_000;
const COARSE_LIMIT_US = 10_000_000;
const FINE_BUCKETS = FINE_LIMIT_US / FINE_US;
const BUCKETS = FINE_BUCKETS + (COARSE_LIMIT_US - FINE_LIMIT_US) / COARSE_US + 1;

/** A histogram as plain data, for IPC: only the non-empty buckets. */
export interface HistogramData {
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
  readonly sumUs: number;
  readonly maxUs: number;
}

export interface Percentiles {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function bucketOf(us: number): number {
  if (us < FINE_LIMIT_US) return us <= 0 ? 0 : Math.floor(us / FINE_US);
  if (us < COARSE_LIMIT_US) return FINE_BUCKETS + Math.floor((us - FINE_LIMIT_US) / COARSE_US);
  return BUCKETS - 1;
}

/** The upper edge of a bucket: percentiles err on the slow side. */
function upperEdgeUs(bucket: number): number {
  if (bucket < FINE_BUCKETS) return (bucket + 1) * FINE_US;
  if (bucket < BUCKETS - 1) return FINE_LIMIT_US + (bucket - FINE_BUCKETS + 1) * COARSE_US;
  return COARSE_LIMIT_US;
}

export class Histogram {
  private counts = new Uint32Array(BUCKETS);
  count = 0;
  private sumUs = 0;
  private maxUs = 0;

  record(us: number): void {
    this.counts[bucketOf(us)]!++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Records `n` samples of the same value (frames that arrived in one read). */
  recordMany(us: number, n: number): void {
    this.counts[bucketOf(us)]! += n;
    this.count += n;
    this.sumUs += us * n;
    if (us > this.maxUs) this.maxUs = us;
  }

  merge(data: HistogramData): void {
    for (const [bucket, n] of data.buckets) this.counts[bucket]! += n;
    this.count += data.count;
    this.sumUs += data.sumUs;
    if (data.maxUs > this.maxUs) this.maxUs = data.maxUs;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumUs = 0;
    this.maxUs = 0;
  }

  toData(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] !== 0) buckets.push([i, this.counts[i]!]);
    return { buckets, count: this.count, sumUs: this.sumUs, maxUs: this.maxUs };
  }

  percentiles(): Percentiles {
    const at = (q: number): number => {
      if (this.count === 0) return 0;
      const rank = Math.ceil(q * this.count);
      let seen = 0;
      for (let i = 0; i < BUCKETS; i++) {
        seen += this.counts[i]!;
        if (seen >= rank) return Math.min(upperEdgeUs(i), this.maxUs) / 1000;
      }
      return this.maxUs / 1000;
    };
    return {
      count: this.count,
      meanMs: this.count === 0 ? 0 : this.sumUs / this.count / 1000,
      p50Ms: at(0.5),
      p95Ms: at(0.95),
      p99Ms: at(0.99),
      maxMs: this.maxUs / 1000,
    };
  }
}

/** Microseconds on CLOCK_MONOTONIC, which every process on the machine shares. */
export function monotonicUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1_000_000 + Math.floor(ns / 1000);
}
