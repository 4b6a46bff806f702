import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryBudget } from './retry-budget.js';

test('retries are capped at ratio x requests over the window, with a floor', () => {
  let now = 0;
  const budget = new RetryBudget({ ratio: 0.2, window_s: 10, min_retries: 3 }, () => now);
  for (let i = 0; i < 100; i++) budget.recordRequest();
  let granted = 0;
  while (budget.tryAcquire()) granted++;
  assert.equal(granted, 20);

  now += 10_000; // the window has moved past every request
  granted = 0;
  while (budget.tryAcquire()) granted++;
  assert.equal(granted, 3, 'the floor lets a quiet gateway fail over');
});

test('attempts per request stay at or below 1 + ratio when every attempt would retry', () => {
  let now = 0;
  const budget = new RetryBudget({ ratio: 0.2, window_s: 10, min_retries: 3 }, () => now);
  let attempts = 0;
  const requests = 5000;
  for (let i = 0; i < requests; i++) {
    now += 20; // 50 requests per second
    budget.recordRequest();
    attempts++;
    for (let retry = 0; retry < 2 && budget.tryAcquire(); retry++) attempts++;
  }
  assert.ok(attempts / requests <= 1.2 + 3 / requests * 50, `attempts per request ${attempts / requests}`);
  assert.ok(attempts / requests > 1.15, 'the budget is used, not starved');
});

test('a freshly started gateway starts with min_retries in reserve, so its first failures fail over', () => {
  const now = 0;
  const budget = new RetryBudget({ ratio: 0.2, window_s: 10, min_retries: 10 }, () => now);
  let granted = 0;
  for (let i = 0; i < 12; i++) {
    budget.recordRequest();
    if (budget.tryAcquire()) granted++;
  }
  assert.equal(granted, 12, '10 in reserve plus 0.2 from each of 12 requests');
  budget.recordRequest();
  assert.equal(budget.tryAcquire(), false, 'then the 20 % rule');
});
