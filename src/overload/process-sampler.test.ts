// The real sampler sees a blocked event loop, whichever of its timers runs first after the block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processSampler } from './process-sampler.js';

const block = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a calm loop reads near zero; heap and RSS are plausible', async () => {
  const sampler = processSampler({ intervalMs: 50 });
  try {
    await tick(50);
    const calm = sampler.read();
    assert.ok(calm.eventLoopDelayMs < 40, `calm delay ${calm.eventLoopDelayMs} ms`);
    assert.ok(calm.heapUsedBytes > 0 && calm.heapUsedBytes < calm.heapLimitBytes);
    assert.ok(calm.rssBytes > calm.heapUsedBytes);
  } finally {
    sampler.stop();
  }
});

test('a 300 ms block is read as a stall of about that length, and the next window is calm', async () => {
  const sampler = processSampler({ intervalMs: 50 });
  try {
    await tick(50);
    sampler.read();
    // Blocked inside a timer callback, read at once after: the histogram has not recorded the
    // block yet (its timer is overdue), so only the sampler's own lateness shows it.
    await tick(20);
    block(300);
    const blocked = sampler.read();
    assert.ok(blocked.eventLoopDelayMs >= 250, `blocked delay ${blocked.eventLoopDelayMs} ms`);
    await tick(50);
    const after = sampler.read();
    assert.ok(after.eventLoopDelayMs < 100, `delay after ${after.eventLoopDelayMs} ms`);
  } finally {
    sampler.stop();
  }
});
