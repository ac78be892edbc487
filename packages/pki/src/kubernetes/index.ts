export { inClusterApi, KubernetesApiError, type KubernetesApi, type OwnerReference, type Secret } from './api';
export { caProblem, leafProblem, type LeafExpectation } from './check';
export { secretsCommand, SECRETS_USAGE } from './command';
export { parsePlan, planSchema, type Plan } from './plan';
export { syncSecrets, type SyncEntry } from './sync';
