/**
 * Loaded objects as the catalog's input, for one-shot commands that need no store.
 */
import type { LoadedObject } from '../api/parse.js';
import type { CatalogInput } from '../catalog/index.js';
import { Store } from '../store/index.js';

export function objectsInput(objects: readonly LoadedObject[]): CatalogInput {
  const store = new Store();
  store.apply(objects.map((o) => ({ type: 'put', object: o.object, apiVersion: o.apiVersion, source: o.source })));
  return store.snapshot();
}
