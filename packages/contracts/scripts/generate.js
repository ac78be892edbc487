#!/usr/bin/env node
/**
 * Generates the contracts from ../../proto (buf module, see proto/buf.yaml):
 * - TypeScript into src/gen, by `buf generate` with buf.gen.yaml and the local ts-proto plugin (no remote plugins);
 * - a binary FileDescriptorSet with all imports into descriptor/flashsale.binpb, which services load for gRPC server
 *   reflection and which an Envoy gRPC-JSON transcoder can load.
 * Both are build output: git-ignored (see .gitignore), never edited by hand.
 */
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const started = process.hrtime.bigint();
const root = join(__dirname, '..');
const buf = require.resolve('@bufbuild/buf/bin/buf');
const plugin = join(root, '..', '..', 'node_modules', '.bin', 'protoc-gen-ts_proto');
if (!existsSync(plugin)) {
  console.error(`contracts: ${plugin} is missing; run npm install at the repository root`);
  process.exit(1);
}
const run = (...args) => execFileSync(process.execPath, [buf, ...args], { cwd: root, stdio: 'inherit' });

rmSync(join(root, 'src', 'gen'), { recursive: true, force: true });
mkdirSync(join(root, 'descriptor'), { recursive: true });
run('generate', '--template', 'buf.gen.yaml');
run('build', join('..', '..', 'proto'), '--as-file-descriptor-set', '-o', join('descriptor', 'flashsale.binpb'));

const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(`contracts: generated src/gen and descriptor/flashsale.binpb in ${ms.toFixed(0)} ms`);
