/**
 * The `madison` section of the `render` facts file: what the controller would discover.
 */
import { z } from 'zod';

/** `madison:` in the facts file. */
export const madisonOfflineSchema = z
  .object({
    backends: z
      .array(z.string().ip({ version: 'v4' }))
      .default([])
      .describe('A records of madison.backendsHost'),
    authKey: z.string().min(1).default('<madison-auth-key>').describe('The Madison key in use'),
    revoked: z.boolean().default(false).describe('Connect says the setup is archived'),
    prometheusNamespace: z.string().optional().describe('Namespace of Prometheus main, e.g. d8-monitoring: the alert relabeling goes there'),
  })
  .strict();
