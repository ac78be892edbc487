/**
 * The charts' secrets and security defaults, from their `helm template` renders: credentials live only in Secrets
 * (never in a ConfigMap, an env value or a command line), each can come from a Secret the user manages (then the
 * chart renders none, and renders are the same every time), the `helm test` pod never holds the JWT secret, and
 * the gateway trusts X-Forwarded-For only from the proxies it is given.
 */
import { infraChart, template, type K8sObject } from './helm';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: unknown[];
}

/** Every Secret value, decoded. */
const secretValues = (objects: K8sObject[]) =>
  objects
    .filter((object) => object.kind === 'Secret')
    .flatMap((secret) => Object.values((secret.data ?? {}) as Record<string, string>))
    .map((value) => Buffer.from(value, 'base64').toString('utf8'));

const podSpec = (object: K8sObject) =>
  object.kind === 'Pod'
    ? object.spec
    : ['Deployment', 'StatefulSet', 'Job'].includes(object.kind)
      ? object.spec.template.spec
      : undefined;

/** Every container (init containers too) of every workload, with the object it belongs to. */
const containers = (objects: K8sObject[]) =>
  objects.flatMap((object) => {
    const spec = podSpec(object);
    if (!spec) return [];
    return [...(spec.initContainers ?? []), ...spec.containers].map((container: Container) => ({ object, container }));
  });

/** The variable `name` of a container, or undefined. */
const variable = (container: Container, name: string) => container.env?.find((env) => env.name === name);

/** Everything a process of the chart could print or a reader of its objects could see in plain text. */
const plainText = (objects: K8sObject[]) => [
  ...objects
    .filter((object) => object.kind === 'ConfigMap')
    .flatMap((configMap) => Object.values((configMap.data ?? {}) as Record<string, string>)),
  ...containers(objects).flatMap(({ container }) => [
    ...(container.env ?? []).flatMap((env) => (env.value === undefined ? [] : [env.value])),
    ...(container.command ?? []),
    ...(container.args ?? []),
  ]),
];

/** Credentials given as values (development), so that each one can be looked for everywhere. */
const GIVEN = [
  ['--set', 'auth.jwtSecret=jwt-given-as-a-value-0123456789abcdef'],
  ['--set', 'infrastructure.redis.existingSecret=', '--set', 'infrastructure.redis.password=redis-given-as-a-value'],
  ['--set', 'infrastructure.postgres.passwordsSecret='],
  ...['promotion', 'inventory', 'order', 'payment'].map((service) => [
    '--set',
    `infrastructure.postgres.users.${service}.password=${service}-db-given-as-a-value`,
  ]),
].flat();

/** Every credential from a Secret the user manages. */
const ALL_EXISTING = [
  ['--set', 'auth.existingSecret=my-jwt'],
  ['--set', 'infrastructure.postgres.existingSecret=my-database-urls'],
  ['--set', 'infrastructure.redis.existingSecret=my-redis', '--set', 'infrastructure.redis.existingSecretKey=pass'],
].flat();

const ok = (args: string[], chartDir?: string) => {
  const rendered = template(args, chartDir);
  expect({ ok: rendered.ok, stderr: rendered.stderr }).toEqual({ ok: true, stderr: '' });
  return rendered.objects;
};

describe('flash-sale: where credentials live', () => {
  it('when credentials are given as values, then each is in a Secret and nowhere in plain text', () => {
    const objects = ok(GIVEN);
    const secrets = secretValues(objects);
    expect(secrets).toEqual(
      expect.arrayContaining([
        'jwt-given-as-a-value-0123456789abcdef',
        'redis-given-as-a-value',
        'order-db-given-as-a-value',
      ]),
    );
    const visible = plainText(objects);
    expect(visible.length).toBeGreaterThan(50);
    for (const secret of secrets) {
      expect(visible.filter((text) => text.includes(secret))).toEqual([]);
    }
  });

  it('when the chart renders with its defaults, then the ConfigMap holds no credential and REDIS_URL no password', () => {
    const [configMap] = ok([]).filter(
      (object) => object.kind === 'ConfigMap' && object.metadata.name.endsWith('-config'),
    );
    const data = configMap!.data as Record<string, string>;
    expect(Object.keys(data).filter((key) => /PASSWORD|SECRET|TOKEN|DATABASE_URL/.test(key))).toEqual([]);
    expect(new URL(data.REDIS_URL!).password).toBe('');
  });

  it('when infrastructure.redis.url holds a password, then the chart refuses it (it would land in a ConfigMap)', () => {
    const rendered = template(['--set', 'infrastructure.redis.url=redis://:hunter2@redis:6379']);
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toMatch(/redis\.url must not hold credentials/);
    expect(rendered.stderr).not.toContain('hunter2');
  });

  it('when the services connect to PostgreSQL, then DATABASE_URL has no password and DATABASE_PASSWORD comes from a Secret', () => {
    for (const args of [[], GIVEN]) {
      const workloads = containers(ok(args)).filter(({ container }) => variable(container, 'DATABASE_URL'));
      // Four services, and the migration Job's four init containers.
      expect(workloads).toHaveLength(8);
      for (const { container } of workloads) {
        const url = new URL(variable(container, 'DATABASE_URL')!.value!);
        expect({ container: container.name, password: url.password }).toEqual({
          container: container.name,
          password: '',
        });
        expect(variable(container, 'DATABASE_PASSWORD')?.valueFrom?.secretKeyRef).toBeDefined();
      }
    }
  });

  it('when the defaults are used, then the passwords are flash-sale-infra’s (random per install) and the chart renders only the JWT secret', () => {
    const objects = ok([]);
    const inventory = containers(objects).find(({ container }) => container.name === 'inventory')!.container;
    expect(variable(inventory, 'DATABASE_PASSWORD')!.valueFrom!.secretKeyRef).toEqual({
      name: 'flash-sale-infra-credentials',
      key: 'inventory-password',
    });
    expect(variable(inventory, 'REDIS_PASSWORD')!.valueFrom!.secretKeyRef).toEqual({
      name: 'flash-sale-infra-credentials',
      key: 'redis-password',
    });
    const secrets = objects.filter((object) => object.kind === 'Secret');
    expect(secrets.map((secret) => [secret.metadata.name, Object.keys(secret.data as object)])).toEqual([
      ['release-flash-sale-secrets', ['jwt-secret']],
    ]);
  });

  it('when every credential comes from an existing Secret, then the chart renders no Secret and every pod reads those', () => {
    const objects = ok(ALL_EXISTING);
    expect(objects.filter((object) => object.kind === 'Secret').map((secret) => secret.metadata.name)).toEqual([]);
    const referenced = new Set(
      containers(objects).flatMap(({ container }) =>
        (container.env ?? []).flatMap((env) => (env.valueFrom?.secretKeyRef ? [env.valueFrom.secretKeyRef.name] : [])),
      ),
    );
    expect([...referenced].sort()).toEqual(['my-database-urls', 'my-jwt', 'my-redis']);
  });

  it('when every credential comes from an existing Secret, then two renders are identical (a GitOps sync rotates nothing)', () => {
    expect(template(ALL_EXISTING).objects).toEqual(template(ALL_EXISTING).objects);
  });

  it('when the JWT secret is left to the chart, then each `helm template` makes a new one (why GitOps needs existingSecret)', () => {
    const jwt = () => secretValues(ok([]))[0];
    expect(jwt()).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(jwt()).not.toBe(jwt());
  });

  it.each<[string, string[], RegExp]>([
    [
      'a Redis password both as a value and in a Secret',
      ['--set', 'infrastructure.redis.password=x'],
      /infrastructure\.redis: existingSecret and password/,
    ],
    [
      'a database password both as a value and in passwordsSecret',
      ['--set', 'infrastructure.postgres.users.order.password=x'],
      /users\.order\.password and passwordsSecret/,
    ],
    ['no database password at all', ['--set', 'infrastructure.postgres.passwordsSecret='], /no password for promotion/],
  ])('when the values give %s, then the chart refuses them, naming the setting', (_what, args, message) => {
    const rendered = template(args);
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toMatch(message);
  });
});

describe('flash-sale: the helm test pod', () => {
  const testPod = (args: string[]) =>
    ok(args).find((object) => object.metadata.annotations?.['helm.sh/hook'] === 'test')!;

  it.each([
    ['the defaults', []],
    ['the JWT secret given as a value', ['--set', 'auth.jwtSecret=jwt-given-as-a-value-0123456789abcdef']],
    ['an existing JWT Secret', ['--set', 'auth.existingSecret=my-jwt']],
  ])('when rendered with %s, then the test pod reads no Secret at all and so never the JWT secret', (_what, args) => {
    const pod = testPod(args);
    expect(pod.kind).toBe('Pod');
    expect(pod.spec.volumes ?? []).toEqual([]);
    for (const container of pod.spec.containers as Container[]) {
      expect(container.envFrom ?? []).toEqual([]);
      expect((container.env ?? []).filter((env) => env.valueFrom)).toEqual([]);
    }
  });

  it('when tests.tokensSecret is given, then the test pod reads only the admin and buyer tokens from it', () => {
    const pod = testPod(['--set', 'tests.tokensSecret=smoke-tokens']);
    const fromSecrets = (pod.spec.containers as Container[]).flatMap((container) =>
      (container.env ?? []).flatMap((env) => (env.valueFrom ? [[env.name, env.valueFrom.secretKeyRef]] : [])),
    );
    expect(fromSecrets).toEqual([
      ['ADMIN_TOKEN', { name: 'smoke-tokens', key: 'admin-token' }],
      ['BUYER_TOKEN', { name: 'smoke-tokens', key: 'buyer-token' }],
    ]);
  });
});

describe('flash-sale: trusted proxies', () => {
  const gateway = (args: string[]) =>
    containers(ok(args)).find(({ container }) => container.name === 'gateway')!.container;

  it('when gateway.trustedProxies is empty, then the gateway trusts no proxy (no TRUSTED_PROXIES)', () => {
    expect(variable(gateway([]), 'TRUSTED_PROXIES')).toBeUndefined();
  });

  it('when gateway.trustedProxies lists the ingress’s ranges, then the gateway alone gets them as TRUSTED_PROXIES', () => {
    const args = ['--set', 'gateway.trustedProxies={10.244.0.0/16,fd00::/8}'];
    expect(variable(gateway(args), 'TRUSTED_PROXIES')).toEqual({
      name: 'TRUSTED_PROXIES',
      value: '10.244.0.0/16,fd00::/8',
    });
    const others = containers(ok(args)).filter(({ container }) => variable(container, 'TRUSTED_PROXIES'));
    expect(others.map(({ container }) => container.name)).toEqual(['gateway']);
  });

  it('when gateway.trustedProxies names a host, then the schema refuses it', () => {
    const rendered = template(['--set', 'gateway.trustedProxies={ingress.example.com}']);
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toMatch(/trustedProxies/);
  });
});

describe('flash-sale-infra: the in-cluster profile’s credentials', () => {
  const render = (args: string[] = []) => ok(['--set', 'persistence.enabled=false', ...args], infraChart);

  it('when installed, then Redis and every service role get a random password, in one Secret', () => {
    const [secret, ...more] = render().filter((object) => object.kind === 'Secret');
    expect(more).toEqual([]);
    expect(secret!.metadata.name).toBe('release-flash-sale-infra-credentials');
    const data = secret!.data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual([
      'inventory-password',
      'orders-password',
      'payment-password',
      'promotion-password',
      'redis-password',
    ]);
    const passwords = Object.values(data).map((value) => Buffer.from(value, 'base64').toString('utf8'));
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(passwords).size).toBe(5);
  });

  it('when the servers start, then they read the passwords from the Secret, never from a value or an argument', () => {
    const objects = render();
    const server = (name: string) => containers(objects).find(({ container }) => container.name === name)!.container;
    expect(variable(server('redis'), 'REDIS_PASSWORD')!.valueFrom!.secretKeyRef).toEqual({
      name: 'release-flash-sale-infra-credentials',
      key: 'redis-password',
    });
    expect(
      (server('postgres').env ?? []).filter((env) => env.name.startsWith('POSTGRES_PASSWORD_')).map((env) => env.name),
    ).toEqual([
      'POSTGRES_PASSWORD_PROMOTION',
      'POSTGRES_PASSWORD_INVENTORY',
      'POSTGRES_PASSWORD_ORDERS',
      'POSTGRES_PASSWORD_PAYMENT',
    ]);
    const secrets = secretValues(objects);
    for (const text of plainText(objects)) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  it('when credentials.existingSecret is given, then the chart renders no Secret and two renders are identical', () => {
    const args = ['--set', 'credentials.existingSecret=my-infra-credentials'];
    const objects = render(args);
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
    expect(render(args)).toEqual(objects);
    const postgres = containers(objects).find(({ container }) => container.name === 'postgres')!.container;
    expect(variable(postgres, 'POSTGRES_PASSWORD_ORDERS')!.valueFrom!.secretKeyRef!.name).toBe('my-infra-credentials');
  });

  it('when the development values are used, then the passwords are fixed (Tilt re-renders with helm template)', () => {
    const passwords = () => secretValues(render(['-f', `${infraChart}/values-dev.yaml`]));
    expect(passwords()).toEqual(passwords());
  });
});
