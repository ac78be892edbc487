#!/usr/bin/env node
// Entry point of the `flash-pki` command. It stays a committed file so npm can link it before anything is built;
// the command itself is compiled TypeScript (dist/cli.js). scripts/infra.sh runs it before `npm run build`, so on a
// fresh checkout this builds @flash-sale/pki first (needs the `typescript` dev dependency, a few seconds, once).
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
if (!existsSync(cli)) {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    process.stderr.write(`flash-pki: ${cli} is missing and TypeScript is not installed to build it\n`);
    process.exit(1);
  }
  const { status } = require('node:child_process').spawnSync(process.execPath, [tsc, '-b', root], {
    stdio: 'inherit',
  });
  if (status !== 0 || !existsSync(cli)) {
    process.stderr.write(`flash-pki: building ${root} failed\n`);
    process.exit(1);
  }
}
require(cli);
