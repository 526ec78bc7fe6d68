/** Picks an entry by weight with `r` uniform in [0, 1): shared by tcp_proxy and the HTTP router. */
export function pickWeighted<T extends { readonly weight: number }>(entries: readonly T[], totalWeight: number, r: number): T {
  let x = r * totalWeight;
  for (const e of entries) {
    if (x < e.weight) return e;
    x -= e.weight;
  }
  return entries[entries.length - 1]!;
}
