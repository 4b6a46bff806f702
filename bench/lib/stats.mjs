// Percentiles over every recorded sample (no histogram bucketing, so p99 of 75,000 samples is an
// exact order statistic, not an interpolation inside a bucket).

/** `values` is a Float64Array or array of milliseconds; returns null when there are none. */
export function summarize(values) {
  const n = values.length;
  if (n === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (q) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return { n, mean: sum / n, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[n - 1], min: sorted[0] };
}

/** Growable Float64Array: cheap to push into at tens of thousands of samples per second. */
export class Samples {
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
    this.length = 0;
  }

  push(value) {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  values() {
    return this.data.subarray(0, this.length);
  }
}
