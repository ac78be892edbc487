import { inClusterApi, type KubernetesApi } from './api';
import { loadSecretsJobConfig, type SecretsJobConfig } from './config';
import { parsePlan, type Plan } from './plan';
import { syncSecrets } from './sync';

export const SECRETS_USAGE = `usage: flash-pki secrets sync

In a Kubernetes pod (the chart's hook Job): keeps the CA and certificates described by the JSON plan in FLASH_PKI_PLAN
as kubernetes.io/tls Secrets of the plan's namespace, through the API server with the pod's ServiceAccount token.
It issues only what is missing, expires within renewDays, or names the wrong identity.`;

/** `flash-pki secrets sync`; returns the exit code. */
export async function secretsCommand(
  argv: readonly string[],
  config: SecretsJobConfig = loadSecretsJobConfig(),
  connect: (plan: Plan) => KubernetesApi = (plan) =>
    inClusterApi(plan.namespace, { host: config.KUBERNETES_SERVICE_HOST, port: config.KUBERNETES_SERVICE_PORT }),
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  if (argv.length !== 1 || argv[0] !== 'sync') {
    process.stderr.write(`${SECRETS_USAGE}\n`);
    return 64;
  }
  const parsed = parsePlan(config.FLASH_PKI_PLAN);
  if ('problems' in parsed) {
    for (const problem of parsed.problems) process.stderr.write(`flash-pki: ${problem}\n`);
    return 64;
  }
  const { plan } = parsed;
  const api = connect(plan);
  const entries = await syncSecrets(api, plan);
  for (const entry of entries) {
    out(`[pki] ${plan.namespace}/${entry.secret} ${entry.action}${entry.reason ? ` (${entry.reason})` : ''}`);
  }
  return 0;
}
