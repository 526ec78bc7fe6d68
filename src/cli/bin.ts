#!/usr/bin/env node
/**
 * The `osm` executable: runs the CLI on the process's arguments and exits with its status.
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 70;
  },
);
