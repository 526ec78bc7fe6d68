/**
 * The store: typed objects by kind and key with resource versions, immutable snapshots and
 * change subscriptions. It validates nothing (sources do) and computes nothing (the catalog does).
 */
export { refOfObject, Store, type Snapshot, type StoreChange, type StoredObject, type StoreWrite } from './store.js';
