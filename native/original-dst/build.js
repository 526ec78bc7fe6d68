#!/usr/bin/env node
// Builds the original-dst addon with node-gyp against the headers of the Node.js running this
// script, never downloaded ones: CI and these machines reach only the npm registry, and headers
// that differ from the running Node would build an addon it cannot load. Run by
// `npm run build:native` (part of `npm run build`); needs python3, make and g++.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const here = dirname(new URL(import.meta.url).pathname);

// npm puts its bundled node-gyp on PATH for scripts and names it in npm_config_node_gyp; a plain
// `node build.js` run falls back to whatever node-gyp is on PATH.
const nodeGyp = process.env.npm_config_node_gyp;
const command = nodeGyp ? [process.execPath, nodeGyp] : ['node-gyp'];

// nodedir from npm config (`npm config get nodedir`, /usr here) wins; otherwise the headers that a
// distribution's Node.js installs beside its binary (<prefix>/include/node).
const nodedir = process.env.npm_config_nodedir || dirname(dirname(process.execPath));
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  console.error(
    `build:native: no Node.js headers at ${nodedir}/include/node; set \`npm config set nodedir <dir>\` ` +
      'to a directory holding include/node/node_api.h (this build never downloads headers)',
  );
  process.exit(1);
}

function gyp(...args) {
  const [file, ...rest] = command;
  const result = spawnSync(file, [...rest, ...args, `--nodedir=${nodedir}`, '--loglevel=warn'], { stdio: 'inherit', cwd: here });
  if (result.error) {
    console.error(`build:native: could not run node-gyp: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// Configure once, then let make rebuild only what changed, so `npm run build` stays quick.
if (!existsSync(join(here, 'build', 'Makefile'))) gyp('configure');
gyp('build');
