import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_SPIFFE, spiffeNamingSchema } from '@flash-sale/config';
import { secretsCommand, SECRETS_USAGE } from './kubernetes/command';
import { initPki } from './local-pki';

const USAGE = `usage: flash-pki init --dir <dir> [options]

Creates, or keeps while valid, a CA and one certificate per mesh workload (and the gateway's front door) in <dir>:
<dir>/ca.crt, <dir>/ca.key and <dir>/<name>/{tls.crt,tls.key,ca.crt}.

  --trust-domain <name>  SPIFFE trust domain (default ${LOCAL_SPIFFE.trustDomain})
  --namespace <name>     Kubernetes namespace in the SPIFFE IDs (default ${LOCAL_SPIFFE.namespace})
  --sa-prefix <prefix>   ServiceAccount name before the workload (default ${LOCAL_SPIFFE.saPrefix})
  --days <n>             validity of new workload certificates (default 365)
  --ca-days <n>          validity of a new CA (default 3650)

${SECRETS_USAGE}`;

/** `flash-pki init ...`; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'secrets') return secretsCommand(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'trust-domain': { type: 'string', default: LOCAL_SPIFFE.trustDomain },
      namespace: { type: 'string', default: LOCAL_SPIFFE.namespace },
      'sa-prefix': { type: 'string', default: LOCAL_SPIFFE.saPrefix },
      days: { type: 'string', default: '365' },
      'ca-days': { type: 'string', default: '3650' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals[0] !== 'init' || positionals.length !== 1 || !values.dir) {
    process.stderr.write(`${USAGE}\n`);
    return 64;
  }
  const naming = spiffeNamingSchema.safeParse({
    trustDomain: values['trust-domain'],
    namespace: values.namespace,
    saPrefix: values['sa-prefix'],
  });
  if (!naming.success) {
    for (const issue of naming.error.issues)
      process.stderr.write(`flash-pki: ${issue.path.join('.')}: ${issue.message}\n`);
    return 64;
  }
  const days = Number(values.days);
  const caDays = Number(values['ca-days']);
  if (!Number.isInteger(days) || days < 2 || !Number.isInteger(caDays) || caDays < days) {
    process.stderr.write('flash-pki: --days must be a whole number of at least 2, and --ca-days at least --days\n');
    return 64;
  }
  const dir = resolve(values.dir);
  const entries = await initPki({ dir, naming: naming.data, days, caDays });
  for (const entry of entries) {
    process.stdout.write(`[pki] ${entry.name.padEnd(10)} ${entry.action}${entry.reason ? ` (${entry.reason})` : ''}\n`);
  }
  process.stdout.write(`[pki] ${dir}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`flash-pki: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
