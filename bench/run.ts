/**
 * Runs benchmarks by area: `node dist/bench/run.js catalog` (or every area without an argument).
 * Prints the Node.js version and CPU first, so figures can be compared.
 */
import { cpus } from 'node:os';

const areas: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  catalog: () => import('./catalog.bench.js'),
  xds: () => import('./xds.bench.js'),
  http1: () => import('./http1.bench.js'),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((a) => !(a in areas));
if (unknown.length > 0) {
  console.error(`unknown benchmark area: ${unknown.join(', ')}; known: ${Object.keys(areas).join(', ')}`);
  process.exit(2);
}
console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`);
for (const area of wanted.length > 0 ? wanted : Object.keys(areas)) {
  const mod = await areas[area]?.();
  await mod?.run();
}
