#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the process spent its own CPU time,
// by function and by package or source file. Usage: node bench/profile-summary.mjs FILE [TOP]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Which bucket a frame's URL belongs to: a node_modules package, a file of ours, or Node itself. */
function groupOf(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const ours = /\/(dist|src|bench)\/(.*)$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url;
}

export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  // Self time of a node is the sum of the intervals whose sample landed in it.
  const selfUs = new Map();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
    totalUs += dt;
  }
  const byFunction = new Map();
  const byGroup = new Map();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|dist|src)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const group = groupOf(url, name);
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  // Percentages are of the time the process was busy: a profile of a whole run is mostly idle
  // between measurements, and that says nothing about where the work goes.
  const idleUs = byGroup.get('(idle)') ?? 0;
  const busyUs = totalUs - idleUs;
  const pct = (us) => (busyUs ? (us / busyUs) * 100 : 0);
  byGroup.delete('(idle)');
  for (const key of byFunction.keys()) if (key.startsWith('(idle)\u0000')) byFunction.delete(key);
  return {
    file: basename(file),
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    top: [...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => {
        const [name, where] = key.split('\u0000');
        return { name, where, ms: us / 1000, pct: pct(us) };
      }),
    byGroup: [...byGroup].sort((a, b) => b[1] - a[1]).map(([group, us]) => ({ group, ms: us / 1000, pct: pct(us) })),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, top = '25'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  const s = summarizeProfile(file, Number(top));
  console.log(`${s.file}: ${(s.totalMs / 1000).toFixed(2)} s sampled, ${(s.busyMs / 1000).toFixed(2)} s busy (percentages are of busy time)\n\nself %   self ms  function  (where)`);
  for (const f of s.top) console.log(`${f.pct.toFixed(1).padStart(6)}  ${f.ms.toFixed(0).padStart(8)}  ${f.name}  (${f.where})`);
  console.log('\nself %  group');
  for (const g of s.byGroup.slice(0, 20)) console.log(`${g.pct.toFixed(1).padStart(6)}  ${g.group}`);
}
