#!/usr/bin/env node
/**
 * Generates the contracts from ../../proto (buf module, see proto/buf.yaml):
 * - TypeScript into src/gen, by `buf generate` with buf.gen.yaml and the local ts-proto plugin (no remote plugins);
 * - a binary FileDescriptorSet with all imports into descriptor/flashsale.binpb, which services load for gRPC server
 *   reflection and which an Envoy gRPC-JSON transcoder can load;
 * - a second one, descriptor/grpc.binpb, of the protos every server implements besides ours (`grpc.health.v1` and
 *   `grpc.reflection.v1`/`v1alpha`), built from the .proto files that ship with the packages serving them, so that
 *   reflection describes exactly what they answer.
 * All are build output: git-ignored (see .gitignore), never edited by hand.
 */
const { execFileSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');

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

// Each file under its canonical name (grpc-health-check keeps health.proto at health/v1/; clients expect grpc/...).
const packageDir = (name) => dirname(require.resolve(`${name}/package.json`, { paths: [root] }));
const grpcProtos = mkdtempSync(join(tmpdir(), 'grpc-protos-'));
try {
  const copy = (from, to) => cpSync(from, join(grpcProtos, to), { recursive: true });
  copy(join(packageDir('grpc-health-check'), 'proto', 'health', 'v1', 'health.proto'), 'grpc/health/v1/health.proto');
  for (const version of ['v1', 'v1alpha']) {
    const file = join('grpc', 'reflection', version, 'reflection.proto');
    copy(join(packageDir('@grpc/reflection'), 'build', 'proto', file), file);
  }
  run('build', grpcProtos, '--as-file-descriptor-set', '-o', join('descriptor', 'grpc.binpb'));
} finally {
  rmSync(grpcProtos, { recursive: true, force: true });
}

const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(`contracts: generated src/gen and descriptor/{flashsale,grpc}.binpb in ${ms.toFixed(0)} ms`);
