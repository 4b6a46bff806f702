import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulatorCli, SIM_MODELS, startSimulator } from './index.js';

test('the CLI rejects bad arguments with exit code 2 and prints help with 0', async () => {
  const errors: string[] = [];
  const original = { error: console.error, log: console.log };
  console.error = (message: string) => void errors.push(message);
  console.log = () => undefined;
  try {
    assert.equal(await runSimulatorCli(['--pacing', 'glacial']), 2);
    assert.equal(await runSimulatorCli(['--port', 'eighty']), 2);
    assert.equal(await runSimulatorCli(['--bogus']), 2);
    assert.equal(await runSimulatorCli(['--help']), 0);
  } finally {
    Object.assign(console, original);
  }
  assert.match(errors[0]!, /invalid --pacing "glacial"/);
});

test('the catalog is honest about what the simulator enforces', () => {
  const byId = new Map(SIM_MODELS.map((m) => [m.id, m]));
  assert.deepEqual(byId.get('sim-chat')?.input_modalities, ['text']);
  assert.equal(byId.get('sim-chat')?.context_length, 16_384);
  assert.deepEqual(byId.get('sim-vision')?.input_modalities, ['text', 'image']);
  assert.equal(byId.get('sim-small')?.context_length, 4_096);
  assert.equal(byId.get('sim-embed')?.kind, 'embedding');
  assert.equal(byId.get('sim-embed')?.dimensions, 256);
  for (const model of SIM_MODELS.filter((m) => m.kind === 'chat')) {
    for (const param of ['tools', 'response_format', 'seed', 'stop', 'n', 'temperature', 'top_p', 'max_tokens', 'logprobs']) {
      assert.ok(model.supported_parameters.includes(param), `${model.id} lists ${param}`);
    }
  }
});

test('startSimulator on port 0 serves on the reported port and close() is idempotent', async () => {
  const sim = await startSimulator({ pacing: 'instant' });
  assert.equal(sim.url, `http://127.0.0.1:${sim.port}/v1`);
  const res = await fetch(`${sim.url}/models`);
  assert.equal(res.status, 200);
  await sim.close();
  await sim.close();
  await assert.rejects(fetch(`${sim.url}/models`));
});
