#!/usr/bin/env node
// Runs `npm ci` when node_modules is missing or older than package-lock.json,
// so `npm start` and `npm test` work as the very first command on a fresh clone.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');

const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  process.stderr.write('rote: installing dependencies (npm ci)...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
    // package.json's allowScripts denies onnxruntime-node's install script (its NuGet download of the
    // CUDA provider) from npm 11.16 on; older npm ignores allowScripts, and this variable skips it there.
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip' },
  });
  if (result.status !== 0) {
    process.stderr.write('rote: `npm ci` failed; see the messages above.\n');
    process.exit(result.status ?? 1);
  }
}
