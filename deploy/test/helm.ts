import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const root = path.resolve(__dirname, '../..');
export const chart = path.join(root, 'deploy/helm/flash-sale');
export const infraChart = path.join(root, 'deploy/helm/flash-sale-infra');

let helm: string | undefined;
/** The helm binary scripts/k8s/tools.sh builds (HELM overrides); looked up once per test file. */
export const helmBinary = (): string =>
  (helm ??=
    process.env.HELM ??
    path.join(
      execFileSync('bash', [path.join(root, 'scripts/k8s/tools.sh'), 'path'], { encoding: 'utf8' }).trim(),
      'helm',
    ));

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered manifests of every kind
  [key: string]: unknown;
}

export interface Rendered {
  ok: boolean;
  stderr: string;
  objects: K8sObject[];
}

/** `helm template` of a chart with extra arguments (`--set`, `-f`); never throws. */
export function template(args: string[], chartDir = chart): Rendered {
  const result = spawnSync(helmBinary(), ['template', 'release', chartDir, '--namespace', 'shop', ...args], {
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  const objects =
    result.status === 0
      ? parseAllDocuments(result.stdout)
          .map((document) => document.toJS() as K8sObject | null)
          .filter((object): object is K8sObject => object !== null)
      : [];
  return { ok: result.status === 0, stderr: result.stderr, objects };
}
