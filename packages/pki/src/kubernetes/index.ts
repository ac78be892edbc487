export { inClusterSecrets, KubernetesApiError, type Secret, type SecretsApi } from './api';
export { caProblem, leafProblem, type LeafExpectation } from './check';
export { secretsCommand, SECRETS_USAGE } from './command';
export { parsePlan, planSchema, type Plan } from './plan';
export { deleteSecrets, syncSecrets, type SyncEntry } from './sync';
