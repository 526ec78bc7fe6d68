/**
 * `npm run bench:catalog`: builds the mesh model and every proxy's policy for a synthetic mesh
 * of 1,000 services, 5,000 pods and 2,000 TrafficTargets (the baseline: a full build), then
 * recomputes after one TrafficTarget changes (the candidate: an incremental update), over
 * interleaved rounds. Prints medians, spreads and their ratio.
 */
import { performance } from 'node:perf_hooks';
import { Catalog, DEFAULT_CATALOG_OPTIONS } from '../src/catalog/index.js';
import { Store } from '../src/store/index.js';
import { formatMs, spread } from './stats.js';
import { syntheticMesh, trafficTarget } from './synthetic-mesh.js';

const SIZE = { namespaces: 50, services: 1000, pods: 5000, trafficTargets: 2000, splits: 100 };
const ROUNDS = 7;

export async function run(): Promise<void> {
  const store = new Store();
  store.apply(syntheticMesh(SIZE));
  const full: number[] = [];
  const incremental: number[] = [];
  let proxies = 0;
  let changed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const catalog = new Catalog(DEFAULT_CATALOG_OPTIONS);
    let t0 = performance.now();
    const built = catalog.update(store.snapshot());
    full.push(performance.now() - t0);
    proxies = built.model.proxies.size;

    // One TrafficTarget gets a new source list, as when a user edits it.
    const dest = { ns: `ns-${round % SIZE.namespaces}`, name: `svc-${round}`, tcp: round % 5 === 0 };
    const sources = [0, 1, 2].map((k) => ({ ns: `ns-${(round + k * 7) % SIZE.namespaces}`, name: `svc-${(round * 31 + k * 101 + 7) % SIZE.services}` }));
    store.apply([{ type: 'put', object: trafficTarget(`tt-${round}`, dest, sources), apiVersion: 'access.smi-spec.io/v1alpha3' }]);
    t0 = performance.now();
    const update = catalog.update(store.snapshot());
    incremental.push(performance.now() - t0);
    changed = update.changedProxies.length;
  }
  const f = spread(full);
  const i = spread(incremental);
  console.log(`catalog: ${SIZE.services} services, ${SIZE.pods} pods, ${SIZE.trafficTargets} TrafficTargets, ${SIZE.splits} TrafficSplits -> ${proxies} proxy policies`);
  console.log(`  full build (baseline):           ${formatMs(f.median)} (median of ${ROUNDS}, IQR ${formatMs(f.q1)}-${formatMs(f.q3)})   target < 2 s`);
  console.log(`  one TrafficTarget changed:       ${formatMs(i.median)} (median of ${ROUNDS}, IQR ${formatMs(i.q1)}-${formatMs(i.q3)})   target < 50 ms; ${changed} proxies changed`);
  console.log(`  incremental / full:              ${(i.median / f.median).toFixed(4)}x`);
}
