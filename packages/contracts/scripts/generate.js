#!/usr/bin/env node
/**
 * Generates the contracts from ../../proto: TypeScript (ts-proto, through `buf generate`) into src/gen and a
 * FileDescriptorSet (with imports) into descriptor/, which services serve through gRPC reflection and which an
 * Envoy gRPC-JSON transcoder can load. Both are build output: git-ignored, never edited.
 */
const { execFileSync } = require('node:child_process');
const { mkdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const buf = require.resolve('@bufbuild/buf/bin/buf');
const run = (...args) => execFileSync(process.execPath, [buf, ...args], { cwd: root, stdio: 'inherit' });

rmSync(join(root, 'src', 'gen'), { recursive: true, force: true });
mkdirSync(join(root, 'descriptor'), { recursive: true });
run('generate', '--template', 'buf.gen.yaml');
run('build', '../../proto', '--as-file-descriptor-set', '-o', 'descriptor/flashsale.binpb');
