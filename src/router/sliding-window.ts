// Counters over a sliding window of whole seconds: one ring slot per second, reset when reused.
// Fixed memory and no timers, so a breaker or budget per deployment costs a few hundred bytes.
export class SlidingCounts {
  private readonly counts: Int32Array;
  private readonly stamps: Float64Array;

  /** `fields` counters per second (e.g. calls and failures) over `seconds` seconds. */
  constructor(
    private readonly seconds: number,
    private readonly fields: number,
  ) {
    this.counts = new Int32Array(seconds * fields);
    this.stamps = new Float64Array(seconds).fill(-1);
  }

  add(nowMs: number, field: number, amount = 1): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second % this.seconds;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.counts.fill(0, slot * this.fields, (slot + 1) * this.fields);
    }
    this.counts[slot * this.fields + field]! += amount;
  }

  /** The sum of each field over the window ending now. */
  totals(nowMs: number): number[] {
    const oldest = Math.floor(nowMs / 1000) - this.seconds + 1;
    const sums = new Array<number>(this.fields).fill(0);
    for (let slot = 0; slot < this.seconds; slot++) {
      if (this.stamps[slot]! < oldest) continue;
      for (let f = 0; f < this.fields; f++) sums[f]! += this.counts[slot * this.fields + f]!;
    }
    return sums;
  }

  clear(): void {
    this.stamps.fill(-1);
  }
}
