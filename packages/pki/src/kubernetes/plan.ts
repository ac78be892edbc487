import { z } from '@flash-sale/config';

/** A Kubernetes object name (a DNS subdomain). */
const objectName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name');

const certificate = z
  .object({
    /** The kubernetes.io/tls Secret that holds it: tls.crt, tls.key, ca.crt. */
    secret: objectName,
    commonName: z.string().min(1).max(64),
    /** A workload's identity: the certificate's one URI SAN. */
    spiffeId: z
      .string()
      .regex(/^spiffe:\/\/[a-z0-9._-]+\/\S+$/, 'must be a SPIFFE ID')
      .optional(),
    /** A server's names (the gateway's gRPC door). */
    dnsNames: z.array(z.string().min(1)).optional(),
  })
  .refine((value) => value.spiffeId !== undefined || (value.dnsNames?.length ?? 0) > 0, {
    message: 'needs a spiffeId or dnsNames',
  });

/**
 * What the chart's hook Job keeps in the release's namespace (rendered by the chart as JSON in FLASH_PKI_PLAN): one
 * CA in `ca.secret` (tls.crt, tls.key) and each certificate in its Secret. Validity in days; a certificate is
 * issued again once fewer than `renewDays` remain, and the CA once it would not outlive a certificate issued now.
 */
export const planSchema = z
  .object({
    namespace: objectName,
    /** Labels of every Secret it writes (the release's, so they can be found). */
    labels: z.record(z.string(), z.string()).default({}),
    /** An object of the release that owns every Secret once it exists, so they go when the release does. */
    owner: z.object({ kind: z.literal('ConfigMap'), name: objectName }).optional(),
    ca: z.object({ secret: objectName, commonName: z.string().min(1).max(64), days: z.number().int().min(2) }),
    days: z.number().int().min(2),
    renewDays: z.number().int().min(1),
    certificates: z.array(certificate).min(1),
  })
  .refine((plan) => plan.renewDays < plan.days, { message: 'renewDays must be less than days', path: ['renewDays'] })
  .refine((plan) => plan.ca.days > plan.days + plan.renewDays, {
    message: 'ca.days must exceed days + renewDays (the CA outlives every certificate it signs)',
    path: ['ca', 'days'],
  })
  .refine(
    (plan) =>
      new Set([plan.ca.secret, ...plan.certificates.map((c) => c.secret)]).size === plan.certificates.length + 1,
    {
      message: 'every Secret name must be different',
      path: ['certificates'],
    },
  );

export type Plan = z.output<typeof planSchema>;
export type PlannedCertificate = Plan['certificates'][number];

/** The plan in `text` (JSON), or the problems that make it unusable, one per line. */
export function parsePlan(text: string | undefined): { plan: Plan } | { problems: string[] } {
  if (!text) return { problems: ['FLASH_PKI_PLAN is not set'] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { problems: [`FLASH_PKI_PLAN is not JSON: ${(error as Error).message}`] };
  }
  const result = planSchema.safeParse(json);
  if (result.success) return { plan: result.data };
  return { problems: result.error.issues.map((issue) => `${issue.path.join('.') || '(plan)'}: ${issue.message}`) };
}
