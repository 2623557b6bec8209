/**
 * `flant-integration render`: every manifest the controller would apply for a
 * FlantIntegration, from files, with no cluster. The same pure render functions the
 * controller uses; the facts it would discover come from a facts file instead.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { z } from 'zod';
import { flantIntegrationSchema, type FlantIntegration } from './api/index.js';
import { madisonObjects, sortByteWise } from './components/madison/index.js';

/** Facts the controller would discover in a cluster. */
export const renderFactsSchema = z
  .object({
    clusterUUID: z.string().default('00000000-0000-0000-0000-000000000000').describe('UID of kube-system'),
    backends: z.array(z.string().ip({ version: 'v4' })).default([]).describe('A records of madison.backendsHost'),
    authKey: z.string().min(1).default('<madison-auth-key>').describe('The Madison key in use'),
    revoked: z.boolean().default(false),
    customAlertmanager: z.boolean().default(true).describe('CustomAlertmanager (deckhouse.io/v1alpha1) is served'),
    prometheusNamespace: z.string().optional().describe('Namespace of Prometheus main, e.g. d8-monitoring'),
    image: z.string().default('flant-integration-controller:dev'),
  })
  .strict();

/** Facts of `render`, defaults applied. */
export type RenderFacts = z.infer<typeof renderFactsSchema>;

/** Every object the controller would apply, in order. */
export function renderAll(fi: FlantIntegration, facts: RenderFacts): Array<Record<string, unknown>> {
  const objects: Array<Record<string, unknown>> = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fi.spec.namespace } }];
  if (fi.spec.madison.enabled) {
    objects.push(...madisonObjects(fi.spec, {
      backends: sortByteWise(facts.backends),
      authKey: facts.authKey,
      revoked: facts.revoked,
      customAlertmanagerServed: facts.customAlertmanager,
      prometheusNamespace: facts.prometheusNamespace,
      image: facts.image,
    }));
  }
  return objects;
}

/** Reads the FlantIntegration and facts files and returns the manifests as YAML. */
export async function renderFromFiles(fiFile: string, factsFile?: string): Promise<string> {
  const fi = parseWith(flantIntegrationSchema, await readOne(fiFile, 'FlantIntegration'), fiFile);
  const facts = parseWith(renderFactsSchema, factsFile ? await readOne(factsFile) : {}, factsFile ?? 'facts');
  return renderAll(fi, facts).map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

async function readOne(file: string, kind?: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${err.code ?? err.message}`, { cause: err });
  });
  const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  const found = kind ? docs.find((d) => (d as { kind?: string } | null)?.kind === kind) : docs[0];
  if (found === undefined) throw new Error(`${file} has no ${kind ?? 'document'}`);
  return found;
}

function parseWith<T extends z.ZodTypeAny>(schema: T, value: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new Error(`${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
}
