/**
 * `flant-integration render`: every manifest the controller would apply for a
 * FlantIntegration, from files, with no cluster. It loops over the same components, with
 * the same pure render functions and labels the controller uses; what the controller would
 * discover comes from the facts file instead.
 */
import { readFile } from 'node:fs/promises';
import { z, ZodError } from 'zod';
import { flantIntegrationSchema, type FlantIntegration } from '../api/index.js';
import { crdName, renderComponent, workloadsNamespaceObject, type AnyComponent } from '../flantintegration/index.js';
import type { KubeObject } from '../reconciler/index.js';
import { yaml } from '../imports/cdk8s.js';
import { components } from './components.js';

/** Facts the controller would discover in a cluster; each component reads its own section. */
export const renderFactsSchema = z
  .object({
    clusterUUID: z.string().default('00000000-0000-0000-0000-000000000000').describe('UID of kube-system'),
    licenseKey: z.string().min(1).default('<license-key>').describe('The license key, written where the CRDs carry it inline'),
    image: z.string().default('flant-integration-controller:dev').describe('Image of the workloads that run this program'),
    crds: z
      .record(z.union([z.string().regex(/^v[0-9]+((alpha|beta)[0-9]+)?$/), z.literal('none')]))
      .default({})
      .describe(
        'Per kind (CustomAlertmanager, ClusterLogDestination, ...): the version served, or none; a kind not listed is served at its best version',
      ),
  })
  .passthrough();

/** Facts of `render`, defaults applied. */
export type RenderFacts = z.infer<typeof renderFactsSchema>;

/** Every object the controller would apply, in order, and a note for each component held at a gate. */
export function renderAll(
  fi: FlantIntegration,
  facts: RenderFacts,
  all: readonly AnyComponent[] = components({ image: facts.image }),
): { objects: KubeObject[]; notes: string[] } {
  const known = new Set([...Object.keys(renderFactsSchema.shape), ...all.map((c) => c.name)]);
  const unknown = Object.keys(facts).find((k) => !known.has(k));
  if (unknown !== undefined) throw new Error(`facts: unknown field "${unknown}" (fields: ${[...known].join(', ')})`);
  const objects: KubeObject[] = [workloadsNamespaceObject(fi.spec.namespace)];
  const notes: string[] = [];
  for (const component of all) {
    if (!component.enabled(fi.spec)) continue;
    const served = (kind: string) => servedVersion(component, kind, facts);
    const missing = component.crds.filter((r) => !r.optional && served(r.kind) === undefined).map(crdName);
    if (missing.length > 0) {
      notes.push(`${component.name}: not rendered, the facts say ${missing.join(', ')} is not served (CRDNotInstalled)`);
      continue;
    }
    const section = (facts as Record<string, unknown>)[component.name];
    objects.push(
      ...renderComponent(
        component,
        fi.spec,
        offlineFacts(component, { clusterUUID: facts.clusterUUID, licenceKey: facts.licenseKey, image: facts.image, served, section }),
      ),
    );
  }
  return { objects, notes };
}

/** The apiVersion a component would write for `kind`, as the facts say. */
function servedVersion(component: AnyComponent, kind: string, facts: RenderFacts): string | undefined {
  const req = component.crds.find((r) => r.kind === kind);
  if (!req) return undefined;
  const said = facts.crds[kind];
  if (said === 'none') return undefined;
  const version = said ?? req.versions[0];
  if (version !== undefined && !req.versions.includes(version)) {
    throw new Error(`facts: crds.${kind}: ${version} is not a version the controller writes (${req.versions.join(', ')})`);
  }
  return `${req.group}/${version}`;
}

function offlineFacts(component: AnyComponent, offline: Parameters<AnyComponent['offlineFacts']>[0]): unknown {
  try {
    return component.offlineFacts(offline);
  } catch (err) {
    if (err instanceof ZodError) throw new Error(`facts: ${component.name}.${issueText(err)}`, { cause: err });
    throw err;
  }
}

/** Reads the FlantIntegration and facts files and returns the manifests as YAML; notes go to `warn`. */
export async function renderFromFiles(fiFile: string, factsFile?: string, warn: (line: string) => void = () => {}): Promise<string> {
  const fi = parseWith(flantIntegrationSchema, await readOne(fiFile, 'FlantIntegration'), fiFile);
  const facts = parseWith(renderFactsSchema, factsFile ? await readOne(factsFile) : {}, factsFile ?? 'facts');
  const { objects, notes } = renderAll(fi, facts);
  for (const note of notes) warn(note);
  return objects.map((o) => yaml.stringify(o, { lineWidth: 0 })).join('---\n');
}

async function readOne(file: string, kind?: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${err.code ?? err.message}`, { cause: err });
  });
  const docs = yaml.parseAllDocuments(text).map((d) => d.toJS() as unknown);
  const found = kind ? docs.find((d) => (d as { kind?: string } | null)?.kind === kind) : (docs[0] ?? {});
  if (found === undefined) throw new Error(`${file} has no ${kind ?? 'document'}`);
  return found ?? {};
}

function parseWith<T extends z.ZodTypeAny>(schema: T, value: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.infer<T>;
  throw new Error(`${file}: ${issueText(result.error)}`);
}

function issueText(error: ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
}
