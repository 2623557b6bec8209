/** What components need from the controller: their contract, labels and Secret reading. */
export { cleanupFinalizer, componentLabel, managedByLabel, type Component, type ComponentContext, type ComponentOutcome } from './component.js';
export { readSecretKey, type LicenceResult, type Secret, type SecretLookup } from './licence.js';
