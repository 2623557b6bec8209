/** The FlantIntegration v1alpha1 API: schema, types, conditions and the CRD. */
export * from './schema.js';
export * from './conditions.js';
export { crdPath, flantIntegrationCRD, flantIntegrationCRDYaml, openAPIV3Schema, toStructuralSchema } from './crd.js';
export { durationToMillis, mayCarryCredential } from './fields.js';
