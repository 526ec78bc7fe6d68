#!/usr/bin/env node
// Removes build output before a build, so files deleted from src/ leave no stale tests behind.
import { rmSync } from 'node:fs';

for (const dir of process.argv.slice(2)) rmSync(dir, { recursive: true, force: true });
