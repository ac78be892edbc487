export { createCa, issueCertificate, spiffeIdOf, type CertificatePem } from './certificates';
export type { CaOptions, IssueOptions } from './certificates';
export { FRONT_DOOR, initPki, type InitEntry, type InitOptions } from './local-pki';
