/**
 * mTLS in the chart: each workload mounts its own certificate Secret and is told its SPIFFE naming, which must name
 * the ServiceAccount it runs as; the certificates come from the hook Job (whose plan is checked with the parser the
 * Job itself runs) or from cert-manager, for exactly the Secrets the pods mount; `mtls.mode: off` drops all of it.
 */
import { parsePlan, type Plan } from '../../packages/pki/src/kubernetes/plan';
import { template, type K8sObject } from './helm';

const FULLNAME = 'release-flash-sale';
const WORKLOADS = ['gateway', 'promotion', 'inventory', 'order', 'payment'];
const ENVOY = ['--set', 'envoy.enabled=true', '--set-json', 'envoy.jwks="{\\"keys\\":[]}"'];

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  startupProbe?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
}

function render(args: string[] = []) {
  const rendered = template(args);
  expect({ ok: rendered.ok, stderr: rendered.stderr }).toEqual({ ok: true, stderr: '' });
  const objects = rendered.objects;
  const find = (kind: string, name: string) =>
    objects.find((object) => object.kind === kind && object.metadata.name === name);
  const deployment = (workload: string) => find('Deployment', `${FULLNAME}-${workload}`)!;
  const container = (workload: string) => deployment(workload).spec.template.spec.containers[0] as Container;
  const config = (find('ConfigMap', `${FULLNAME}-config`) as { data: Record<string, string> } | undefined)!.data;
  const job = find('Job', `${FULLNAME}-pki`);
  const plan = (): Plan => {
    const text = (job!.spec.template.spec.containers[0] as Container).env!.find((v) => v.name === 'FLASH_PKI_PLAN');
    const parsed = parsePlan(text?.value);
    if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
    return parsed.plan;
  };
  const secretVolume = (workload: string, volume: string): string | undefined =>
    (deployment(workload).spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[]).find(
      (v) => v.name === volume,
    )?.secret?.secretName;
  return { objects, find, deployment, container, config, job, plan, secretVolume };
}

const env = (container: Container, name: string) => container.env?.find((variable) => variable.name === name)?.value;
const podSpecs = (objects: K8sObject[]) =>
  objects.flatMap((object) =>
    object.kind === 'Pod'
      ? [{ name: object.metadata.name, spec: object.spec }]
      : object.spec?.template?.spec
        ? [{ name: object.metadata.name, spec: object.spec.template.spec }]
        : [],
  );

describe('chart: mTLS on (the default)', () => {
  const r = render();

  it('when rendered, then every workload mounts its own certificate Secret as a directory, read-only', () => {
    for (const workload of WORKLOADS) {
      expect(r.secretVolume(workload, 'tls')).toBe(`${FULLNAME}-${workload}-tls`);
      const mount = r.container(workload).volumeMounts!.find((m) => m.name === 'tls');
      expect(mount).toEqual({ name: 'tls', mountPath: '/etc/flash-sale/tls', readOnly: true });
      const volume = r.deployment(workload).spec.template.spec.volumes.find((v: { name: string }) => v.name === 'tls');
      expect(volume.secret.defaultMode).toBe(0o440);
      expect(r.deployment(workload).spec.template.spec.securityContext.fsGroup).toBe(10001);
    }
  });

  it('when a workload reads its settings, then its SPIFFE ID names the ServiceAccount it runs as', () => {
    expect(r.config).toMatchObject({
      MTLS_MODE: 'on',
      TLS_DIR: '/etc/flash-sale/tls',
      SPIFFE_TRUST_DOMAIN: 'cluster.local',
      SPIFFE_NAMESPACE: 'shop',
      SPIFFE_SA_PREFIX: `${FULLNAME}-`,
    });
    for (const workload of WORKLOADS) {
      const account = r.deployment(workload).spec.template.spec.serviceAccountName;
      expect(account).toBe(`${r.config.SPIFFE_SA_PREFIX}${workload}`);
      expect(r.find('ServiceAccount', account)).toBeDefined();
    }
  });

  it('when the hook Job runs, then its plan (parsed as the Job parses it) covers exactly the mounted Secrets, with those identities', () => {
    const plan = r.plan();
    const mounted = WORKLOADS.map((workload) => r.secretVolume(workload, 'tls'));
    const byWorkload = plan.certificates.filter((certificate) => certificate.spiffeId);
    expect(byWorkload.map((certificate) => certificate.secret)).toEqual(mounted);
    for (const [index, workload] of WORKLOADS.entries()) {
      const account = r.deployment(workload).spec.template.spec.serviceAccountName;
      expect(byWorkload[index]!.spiffeId).toBe(`spiffe://cluster.local/ns/shop/sa/${account}`);
    }
    const door = plan.certificates.find((certificate) => certificate.dnsNames);
    expect(door?.secret).toBe(r.secretVolume('gateway', 'door-tls'));
    expect(door?.dnsNames).toContain(`${FULLNAME}-gateway.shop.svc`);
    expect(plan).toMatchObject({
      namespace: 'shop',
      ca: { secret: `${FULLNAME}-ca` },
      owner: { kind: 'ConfigMap', name: `${FULLNAME}-access-policy` },
      labels: { 'app.kubernetes.io/instance': 'release' },
    });
    expect(r.find('ConfigMap', plan.owner!.name)).toBeDefined();
  });

  it('when the hook Job runs, then it runs before install and upgrade and after install, with a Role for its own Secrets only', () => {
    const plan = r.plan();
    for (const kind of ['ServiceAccount', 'Role', 'RoleBinding', 'Job']) {
      expect(r.find(kind, `${FULLNAME}-pki`)?.metadata.annotations?.['helm.sh/hook']).toBe(
        'pre-install,pre-upgrade,post-install',
      );
    }
    const rules = (r.find('Role', `${FULLNAME}-pki`) as unknown as { rules: Record<string, string[]>[] }).rules;
    expect(rules).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: [plan.ca.secret, ...plan.certificates.map((certificate) => certificate.secret)],
        verbs: ['get', 'update', 'delete'],
      },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [plan.owner!.name], verbs: ['get'] },
    ]);
    const binding = r.find('RoleBinding', `${FULLNAME}-pki`) as unknown as { subjects: { name: string }[] };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: `${FULLNAME}-pki`, namespace: 'shop' }]);
    expect(r.job!.spec.template.spec.serviceAccountName).toBe(`${FULLNAME}-pki`);
    // Before the migrations, so no pod waits for a certificate that is not there yet.
    const weight = (name: string) => Number(r.find('Job', name)!.metadata.annotations!['helm.sh/hook-weight']);
    expect(weight(`${FULLNAME}-pki`)).toBeLessThan(weight(`${FULLNAME}-migrations`));
  });

  it('when any pod of the chart runs, then only the certificate Job holds a Kubernetes API token', () => {
    const specs = podSpecs(r.objects);
    expect(specs.length).toBeGreaterThan(5);
    for (const { name, spec } of specs) {
      expect({ name, automount: spec.automountServiceAccountToken }).toEqual({
        name,
        automount: name === `${FULLNAME}-pki`,
      });
    }
  });

  it('when the services are probed, then kubelet asks /healthz and /readyz over HTTP on the METRICS_PORT', () => {
    for (const workload of WORKLOADS.filter((w) => w !== 'gateway')) {
      const container = r.container(workload);
      const metrics = container.ports!.find((port) => port.name === 'metrics');
      expect(String(metrics?.containerPort)).toBe(env(container, 'METRICS_PORT'));
      expect([container.startupProbe, container.livenessProbe, container.readinessProbe]).toEqual([
        expect.objectContaining({ httpGet: { path: '/healthz', port: 'metrics' } }),
        expect.objectContaining({ httpGet: { path: '/healthz', port: 'metrics' } }),
        expect.objectContaining({ httpGet: { path: '/readyz', port: 'metrics' } }),
      ]);
    }
    expect(JSON.stringify(r.objects)).not.toMatch(/"grpc":\{"port"/);
  });

  it('when outside gRPC clients come, then the gateway serves the door on its own port, with its own certificate', () => {
    const gateway = r.container('gateway');
    expect(gateway.ports).toContainEqual({ name: 'grpcs', containerPort: 8443, protocol: 'TCP' });
    expect(env(gateway, 'GRPC_DOOR_PORT')).toBe('8443');
    expect(env(gateway, 'GRPC_DOOR_TLS_DIR')).toBe('/etc/flash-sale/door-tls');
    expect(gateway.volumeMounts).toContainEqual({
      name: 'door-tls',
      mountPath: '/etc/flash-sale/door-tls',
      readOnly: true,
    });
    const service = r.find('Service', `${FULLNAME}-gateway`)!;
    expect(service.spec.ports).toContainEqual({ name: 'grpcs', port: 8443, targetPort: 'grpcs' });
  });

  it('when any gRPC workload starts, then it finds the allow-list where ACCESS_POLICY_FILE says', () => {
    for (const workload of WORKLOADS) {
      const mount = r.container(workload).volumeMounts!.find((m) => m.name === 'access-policy');
      expect(r.config.ACCESS_POLICY_FILE).toBe(`${mount!.mountPath}/access-policy.yaml`);
    }
  });
});

describe('chart: mTLS with the Envoy front', () => {
  it('when Envoy is on, then it has its own account, certificate and mount, readable by its user', () => {
    const r = render(ENVOY);
    const spec = r.deployment('envoy').spec.template.spec;
    expect(spec.serviceAccountName).toBe(`${FULLNAME}-envoy`);
    expect(r.find('ServiceAccount', `${FULLNAME}-envoy`)).toBeDefined();
    expect(spec.securityContext.fsGroup).toBe(spec.securityContext.runAsGroup);
    expect(r.secretVolume('envoy', 'tls')).toBe(`${FULLNAME}-envoy-tls`);
    expect((spec.containers[0] as Container).volumeMounts).toContainEqual({
      name: 'tls',
      mountPath: '/etc/flash-sale/tls',
      readOnly: true,
    });
    expect(r.plan().certificates.find((c) => c.secret === `${FULLNAME}-envoy-tls`)?.spiffeId).toBe(
      `spiffe://cluster.local/ns/shop/sa/${FULLNAME}-envoy`,
    );
  });
});

describe('chart: mtls.mode off', () => {
  it.each([['off'], ['false']])(
    'when the mode is %s, then no certificate is mounted and the processes run plaintext',
    (mode) => {
      const r = render(['--set', `mtls.mode=${mode}`, ...ENVOY]);
      expect(r.config.MTLS_MODE).toBe('off');
      for (const key of ['TLS_DIR', 'SPIFFE_TRUST_DOMAIN', 'SPIFFE_NAMESPACE', 'SPIFFE_SA_PREFIX']) {
        expect(r.config[key]).toBeUndefined();
      }
      for (const workload of [...WORKLOADS, 'envoy']) {
        expect(r.secretVolume(workload, 'tls')).toBeUndefined();
        const mounts = (r.deployment(workload).spec.template.spec.containers[0] as Container).volumeMounts ?? [];
        expect(mounts.find((m) => m.mountPath === '/etc/flash-sale/tls')).toBeUndefined();
      }
      // The gRPC door still serves TLS: the Job issues its certificate alone.
      expect(r.plan().certificates.map((c) => c.secret)).toEqual([`${FULLNAME}-front-door-tls`]);
    },
  );

  it('when the mode is off and the door has its own Secret, then there is no certificate Job at all', () => {
    const r = render(['--set', 'mtls.mode=off', '--set', 'gateway.grpcDoor.existingSecret=shop-ingress-tls']);
    expect(r.job).toBeUndefined();
    expect(r.find('Role', `${FULLNAME}-pki`)).toBeUndefined();
    expect(r.secretVolume('gateway', 'door-tls')).toBe('shop-ingress-tls');
    expect(r.objects.some((object) => object.metadata.name === `${FULLNAME}-pki`)).toBe(false);
  });
});

describe('chart: certificates from cert-manager', () => {
  const certificates = (objects: K8sObject[]) => objects.filter((object) => object.kind === 'Certificate');

  it('when cert-manager is on, then a self-signed CA signs one Certificate per mounted Secret, and no Job runs', () => {
    const r = render(['--set', 'mtls.certManager.enabled=true', ...ENVOY]);
    expect(r.job).toBeUndefined();
    const all = certificates(r.objects);
    const ca = all.find((c) => c.spec.isCA)!;
    expect(ca.spec.issuerRef).toEqual({ name: `${FULLNAME}-selfsigned`, kind: 'Issuer', group: 'cert-manager.io' });
    expect(r.find('Issuer', `${FULLNAME}-selfsigned`)?.spec).toEqual({ selfSigned: {} });
    expect(r.find('Issuer', `${FULLNAME}-ca`)?.spec).toEqual({ ca: { secretName: ca.spec.secretName } });
    for (const workload of [...WORKLOADS, 'envoy']) {
      const certificate = all.find((c) => c.spec.secretName === r.secretVolume(workload, 'tls'))!;
      const account = r.deployment(workload).spec.template.spec.serviceAccountName;
      expect(certificate.spec).toMatchObject({
        uris: [`spiffe://cluster.local/ns/shop/sa/${account}`],
        usages: ['digital signature', 'server auth', 'client auth'],
        issuerRef: { name: `${FULLNAME}-ca`, kind: 'Issuer' },
        duration: '8760h',
        renewBefore: '720h',
      });
      expect(certificate.spec.dnsNames).toBeUndefined();
    }
    const door = all.find((c) => c.spec.secretName === r.secretVolume('gateway', 'door-tls'))!;
    expect(door.spec.dnsNames).toContain(`${FULLNAME}-gateway.shop.svc`);
    expect(door.spec.usages).toEqual(['digital signature', 'server auth']);
  });

  it('when the user names an issuer, then it signs the mesh CA, and no self-signed issuer is made', () => {
    const issuer = { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' };
    const r = render(['--set-json', `mtls.certManager.issuerRef=${JSON.stringify(issuer)}`]);
    expect(r.job).toBeUndefined();
    expect(certificates(r.objects).find((c) => c.spec.isCA)!.spec.issuerRef).toEqual(issuer);
    expect(r.find('Issuer', `${FULLNAME}-selfsigned`)).toBeUndefined();
  });

  it('when the door has its own Secret, then cert-manager issues none for it', () => {
    const r = render(['--set', 'mtls.certManager.enabled=true', '--set', 'gateway.grpcDoor.existingSecret=shop-tls']);
    expect(certificates(r.objects).some((c) => c.spec.secretName === 'shop-tls')).toBe(false);
    expect(r.secretVolume('gateway', 'door-tls')).toBe('shop-tls');
  });
});

describe('chart: mTLS values refused', () => {
  it.each<[string, string[], RegExp]>([
    ['a mode that is neither on nor off', ['--set', 'mtls.mode=strict'], /mode/],
    ['a trust domain with upper case', ['--set', 'mtls.trustDomain=Example.org'], /trustDomain/],
    ['an issuer without a name', ['--set', 'mtls.certManager.issuerRef.kind=ClusterIssuer'], /name/],
    ['a renewal window as long as the validity', ['--set', 'mtls.renewDays=365'], /renewDays must be less than/],
    ['a CA that would not outlive its certificates', ['--set', 'mtls.caDays=380'], /caDays must exceed/],
    ['a door DNS name that is not one', ['--set', 'gateway.grpcDoor.dnsNames={Shop_Example}'], /dnsNames/],
  ])('when the values have %s, then helm refuses them and says which', (_what, args, message) => {
    const rendered = template(args);
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toMatch(message);
  });
});
