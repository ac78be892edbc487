#!/usr/bin/env node
/**
 * One gRPC call into the mesh as a given caller, to see how mTLS and the allow-list answer it. In the mesh images;
 * scripts/k8s/test-k8s.sh runs it in pods holding no certificate, a foreign one, or a workload's Secret.
 *
 *   node scripts/mesh-call.js --target HOST:PORT --method /package.Service/Method --server-id SPIFFE_ID
 *        (--tls-dir DIR | --ca FILE [--foreign SPIFFE_ID] | --plaintext)
 *
 *   --tls-dir DIR       present DIR/tls.crt and DIR/tls.key (a workload's Secret), trust DIR/ca.crt
 *   --ca FILE           trust FILE for the server, and present no certificate ...
 *   --foreign ID        ... or one naming ID, from a CA made on the spot (trusted by nobody)
 *   --plaintext         no TLS at all
 *   --server-id ID      the SPIFFE ID the server's certificate must name (host names do not apply in the mesh)
 *
 * The request is empty (every field at its default): enough for grpc.health.v1.Health/Check, and for a method
 * whose authorization is refused before its handler runs. Prints one JSON line: {ok, response (hex)} or
 * {ok: false, code, status, details, reason, domain}; exits 0 either way once the call has an answer.
 */
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const { uriNames } = require('@flash-sale/config');
const { decodeErrorInfo } = require('@flash-sale/grpc-kit');
const { createCa, issueCertificate } = require('@flash-sale/pki');

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    method: { type: 'string' },
    'server-id': { type: 'string' },
    'tls-dir': { type: 'string' },
    ca: { type: 'string' },
    foreign: { type: 'string' },
    plaintext: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '5000' },
  },
});
const usage = () => {
  process.stderr.write('usage: see the header of scripts/mesh-call.js\n');
  process.exit(64);
};
if (!values.target || !values.method?.startsWith('/')) usage();
if (!values.plaintext && !values['server-id']) usage();

/** The server must present a certificate naming the workload we mean to call. */
const checkServerIdentity = (_host, certificate) => {
  const ids = uriNames(certificate.subjectaltname ?? '');
  return ids.includes(values['server-id'])
    ? undefined
    : new Error(`the server is ${ids.join(' ') || 'no SPIFFE ID'}, not ${values['server-id']}`);
};

async function credentials() {
  if (values.plaintext) return grpc.credentials.createInsecure();
  if (values['tls-dir']) {
    const file = (name) => readFileSync(join(values['tls-dir'], name));
    return grpc.credentials.createSsl(file('ca.crt'), file('tls.key'), file('tls.crt'), { checkServerIdentity });
  }
  if (!values.ca) usage();
  const trusted = readFileSync(values.ca);
  if (!values.foreign) return grpc.credentials.createSsl(trusted, null, null, { checkServerIdentity });
  const ca = await createCa({ commonName: 'a CA the mesh does not know', days: 2 });
  const own = await issueCertificate({ ca, commonName: 'foreign', spiffeId: values.foreign, days: 1 });
  return grpc.credentials.createSsl(trusted, Buffer.from(own.keyPem), Buffer.from(own.certPem), {
    checkServerIdentity,
  });
}

async function main() {
  const client = new grpc.Client(values.target, await credentials());
  const deadline = new Date(Date.now() + Number(values['timeout-ms']));
  const answer = await new Promise((resolve) => {
    client.makeUnaryRequest(
      values.method,
      (request) => request,
      (response) => response,
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline },
      (error, response) => {
        if (!error) return resolve({ ok: true, response: response.toString('hex') });
        const details = error.metadata?.get('grpc-status-details-bin')?.[0];
        const info = details ? decodeErrorInfo(details) : undefined;
        resolve({
          ok: false,
          code: error.code,
          status: grpc.status[error.code],
          details: error.details,
          ...(info ? { reason: info.reason, domain: info.domain } : {}),
        });
      },
    );
  });
  client.close();
  console.log(JSON.stringify({ target: values.target, method: values.method, ...answer }));
}

main().catch((error) => {
  process.stderr.write(`mesh-call: ${error.stack ?? error}\n`);
  process.exit(1);
});
