/**
 * Host selection for EDS and static clusters, as Envoy's zone-unaware load balancers do it:
 *
 * - Priorities: each level's health is 1.4 x its healthy share (Envoy's overprovisioning
 *   factor), capped at 100; load goes to level 0 up to its health, the rest spills to the next
 *   levels, degraded hosts only take what healthy ones cannot. A level whose healthy plus
 *   degraded share is under 50% (Envoy's default `healthy_panic_threshold`) is in panic unless
 *   the levels together are fully available: it balances over all its hosts, healthy or not.
 *   When every level is in panic, load follows host counts (arch_overview/upstream/load_balancing/panic_threshold).
 * - Round robin: plain rotation from a random start when weights are equal, else EDF by weight.
 * - Least request: equal weights pick the less busy of two random hosts (P2C); unequal weights
 *   use EDF with weight / (active requests + 1), Envoy's default `active_request_bias` of 1.
 *
 * Locality weights are not used, as in Envoy without `locality_weighted_lb_config`.
 * Built from a snapshot of the hosts' health; the cluster rebuilds it whenever membership or
 * a host's health changes, so picking never re-derives the sets.
 */
import { EdfScheduler } from './edf.js';
import type { Host } from './host.js';

/** Envoy's default `healthy_panic_threshold`, in percent. */
const PANIC_THRESHOLD_PERCENT = 50;
/** Envoy's default overprovisioning factor, x100. */
const OVERPROVISIONING = 140;

export type BalancingPolicy = 'roundRobin' | 'leastRequest';

/** Picks from one fixed list of hosts. */
interface Picker {
  pick(): Host;
}

function makePicker(hosts: readonly Host[], policy: BalancingPolicy, random: () => number): Picker {
  const first = hosts[0]!;
  const equalWeights = hosts.every((h) => h.weight === first.weight);
  if (policy === 'roundRobin') {
    if (!equalWeights) {
      const edf = new EdfScheduler(hosts, (h) => h.weight);
      return { pick: () => edf.pick()! };
    }
    // A random start, so sidecars that got the same endpoints at once do not all begin with the first.
    let next = Math.floor(random() * hosts.length);
    return {
      pick: () => {
        const h = hosts[next % hosts.length]!;
        next = (next + 1) % hosts.length;
        return h;
      },
    };
  }
  if (!equalWeights) {
    const edf = new EdfScheduler(hosts, (h) => h.weight / (h.activeRequests + 1));
    return { pick: () => edf.pick()! };
  }
  return {
    pick: () => {
      const a = hosts[Math.floor(random() * hosts.length)]!;
      const b = hosts[Math.floor(random() * hosts.length)]!;
      return b.activeRequests < a.activeRequests ? b : a;
    },
  };
}

/** One priority level's hosts split by health, with pickers made on first use. */
class Level {
  readonly all: Host[] = [];
  readonly healthy: Host[] = [];
  readonly degraded: Host[] = [];
  readonly #pickers = new Map<'all' | 'healthy' | 'degraded', Picker>();
  readonly #policy: BalancingPolicy;
  readonly #random: () => number;

  constructor(policy: BalancingPolicy, random: () => number) {
    this.#policy = policy;
    this.#random = random;
  }

  picker(set: 'all' | 'healthy' | 'degraded'): Picker | undefined {
    let p = this.#pickers.get(set);
    if (!p && this[set].length > 0) this.#pickers.set(set, (p = makePicker(this[set], this.#policy, this.#random)));
    return p;
  }
}

/** The result of a pick: the host and whether its level was in panic (for `lb_healthy_panic`). */
export interface Pick {
  readonly host: Host;
  readonly panic: boolean;
}

/** Chooses hosts among one snapshot of a cluster's hosts. */
export class Balancer {
  readonly #levels: Level[] = [];
  readonly #healthyLoad: number[] = [];
  readonly #degradedLoad: number[] = [];
  readonly #panic: boolean[] = [];
  readonly #random: () => number;
  /** Hosts balancing may use at all (healthy or degraded), for the `exclude` fallback. */
  readonly #usable: Host[] = [];

  constructor(hosts: readonly Host[], policy: BalancingPolicy, random: () => number) {
    this.#random = random;
    for (const h of hosts) {
      while (this.#levels.length <= h.priority) this.#levels.push(new Level(policy, random));
      const level = this.#levels[h.priority]!;
      level.all.push(h);
      const health = h.health;
      if (health === 'healthy') level.healthy.push(h);
      else if (health === 'degraded') level.degraded.push(h);
      if (health !== 'unhealthy') this.#usable.push(h);
    }
    this.#computeLoads();
  }

  /** The percent of load each priority gets from healthy and from degraded hosts, and which levels are in panic. */
  get loads(): { readonly healthy: readonly number[]; readonly degraded: readonly number[]; readonly panic: readonly boolean[] } {
    return { healthy: this.#healthyLoad, degraded: this.#degradedLoad, panic: this.#panic };
  }

  /**
   * A host by the policy; with `exclude`, another host when one is usable (retries prefer a
   * host they have not tried). Undefined only when the cluster has no hosts.
   */
  choose(exclude: ReadonlySet<string> | undefined): Pick | undefined {
    const levels = this.#levels;
    let index = 0;
    let set: 'all' | 'healthy' | 'degraded' = 'healthy';
    if (levels.length === 1 && this.#healthyLoad[0] === 100) {
      // The common case (one priority, enough healthy hosts) needs no dice.
    } else {
      const roll = this.#random() * 100;
      let sum = 0;
      let found = false;
      for (let i = 0; i < levels.length && !found; i++) {
        sum += this.#healthyLoad[i]!;
        if (roll < sum) [index, set, found] = [i, 'healthy', true];
      }
      for (let i = 0; i < levels.length && !found; i++) {
        sum += this.#degradedLoad[i]!;
        if (roll < sum) [index, set, found] = [i, 'degraded', true];
      }
      if (!found) return undefined;
    }
    const panic = this.#panic[index] === true;
    if (panic) set = 'all';
    const level = levels[index]!;
    const picker = level.picker(set);
    if (!picker) return undefined;
    const host = picker.pick();
    if (!exclude || exclude.size === 0 || !exclude.has(host.id)) return { host, panic };
    return { host: this.#another(level[set], picker, exclude) ?? host, panic };
  }

  /** A host not in `exclude`: from the same set if it has one, else any usable host. */
  #another(candidates: readonly Host[], picker: Picker, exclude: ReadonlySet<string>): Host | undefined {
    // Picking on keeps the policy's order; a full round of equal-weight rotation visits every host.
    for (let i = 1; i < candidates.length; i++) {
      const h = picker.pick();
      if (!exclude.has(h.id)) return h;
    }
    const rest = candidates.filter((h) => !exclude.has(h.id));
    const pool = rest.length > 0 ? rest : this.#usable.filter((h) => !exclude.has(h.id));
    return pool.length > 0 ? pool[Math.floor(this.#random() * pool.length)] : undefined;
  }

  #computeLoads(): void {
    const levels = this.#levels;
    const share = (n: number, total: number) => (total === 0 ? 0 : Math.min(100, Math.floor((OVERPROVISIONING * n) / total)));
    const health = levels.map((l) => share(l.healthy.length, l.all.length));
    const degraded = levels.map((l) => share(l.degraded.length, l.all.length));
    const total = Math.min(100, [...health, ...degraded].reduce((a, b) => a + b, 0));
    for (let i = 0; i < levels.length; i++) {
      this.#healthyLoad.push(0);
      this.#degradedLoad.push(0);
    }
    if (total > 0) {
      let remaining = 100;
      const distribute = (availability: number[], into: number[]): number => {
        let first = -1;
        availability.forEach((a, i) => {
          if (first < 0 && a > 0) first = i;
          into[i] = Math.min(remaining, Math.floor((a * 100) / total));
          remaining -= into[i]!;
        });
        return first;
      };
      const firstHealthy = distribute(health, this.#healthyLoad);
      const firstDegraded = distribute(degraded, this.#degradedLoad);
      // Rounding leaves a little over; Envoy gives it to the first level that can take it.
      if (remaining > 0) {
        if (firstHealthy >= 0) this.#healthyLoad[firstHealthy]! += remaining;
        else this.#degradedLoad[firstDegraded]! += remaining;
      }
    }
    for (const l of levels) {
      const available = l.all.length === 0 ? 0 : (100 * (l.healthy.length + l.degraded.length)) / l.all.length;
      this.#panic.push(total < 100 && available < PANIC_THRESHOLD_PERCENT);
    }
    if (levels.length > 0 && this.#panic.every(Boolean)) {
      // Total panic: every level is used in proportion to its host count, health ignored.
      const hosts = levels.reduce((n, l) => n + l.all.length, 0);
      let remaining = 100;
      let first = -1;
      levels.forEach((l, i) => {
        if (first < 0 && l.all.length > 0) first = i;
        this.#healthyLoad[i] = hosts === 0 ? 0 : Math.floor((100 * l.all.length) / hosts);
        this.#degradedLoad[i] = 0;
        remaining -= this.#healthyLoad[i]!;
      });
      if (first >= 0) this.#healthyLoad[first]! += remaining;
    }
  }
}
