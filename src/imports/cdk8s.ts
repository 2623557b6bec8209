/**
 * cdk8s and cdk8s-plus-28's generated Kubernetes classes (`k8s`), as the components use them.
 * Written by hand (not generated): they are loaded with `require`, not `import`, because an
 * ES import of a CommonJS package makes Node scan every file it re-exports for export names
 * (2.6 MB for cdk8s-plus-28, whose L2 constructs we do not use), the largest part of a
 * `render` cold start (`npm run bench`, "cold start: render"). `npm run import` points the
 * generated classes of this folder here too.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
const cdk8s = load('cdk8s') as typeof import('cdk8s');

/** cdk8s's classes, each a value and a type. */
export const { ApiObject, App, Chart } = cdk8s;
export type ApiObject = import('cdk8s').ApiObject;
export type App = import('cdk8s').App;
export type Chart = import('cdk8s').Chart;
export type { ApiObjectMetadata, GroupVersionKind } from 'cdk8s';

/** cdk8s-plus-28's L1 classes for the Kubernetes API (`k8s.KubeDeployment`, `k8s.Quantity`, ...). */
export const k8s = load('cdk8s-plus-28/lib/imports/k8s.js') as typeof import('cdk8s-plus-28/lib/imports/k8s.js');
export type { EnvVar, ObjectMeta, PolicyRule } from 'cdk8s-plus-28/lib/imports/k8s.js';

/**
 * The yaml library as cdk8s loads it: cdk8s bundles its own copy of yaml 2 and loads it with
 * `App`, so whatever renders manifests writes YAML with that copy rather than load a second one
 * (74 files, ~25 ms of a `render` cold start). Where cdk8s does not bundle it, this resolves
 * to our own `yaml` dependency.
 */
export const yaml = createRequire(load.resolve('cdk8s'))('yaml') as typeof import('yaml');
