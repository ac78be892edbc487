import { env, loadConfig, z } from '@flash-sale/config';

const schema = z.object({
  /** The JSON plan (see plan.ts), rendered by the chart; checked by parsePlan, which names each problem. */
  FLASH_PKI_PLAN: z.string().optional(),
  /** Where the API server is: kubelet gives every container these two. */
  KUBERNETES_SERVICE_HOST: z.string().min(1).optional(),
  KUBERNETES_SERVICE_PORT: env.port(443),
});

export type SecretsJobConfig = Readonly<z.output<typeof schema>>;

/** The variables `flash-pki secrets` reads. */
export const loadSecretsJobConfig = (source: NodeJS.ProcessEnv = process.env): SecretsJobConfig =>
  loadConfig(schema, source);
