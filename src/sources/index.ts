/**
 * Sources: where objects come from (a manifest directory now, Kubernetes informers later).
 * They write to the store and report problems; they never compute mesh policy.
 */
export { DirectorySource, type DirectorySourceOptions } from './directory.js';
export { expandPaths, loadManifests, readManifestFile, withoutDuplicates, type FileContents } from './files.js';
export type { Source, SourceSink } from './source.js';
