/**
 * Events (events.k8s.io/v1) about an object, as `kubectl describe` shows them.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { errorText } from './informer.js';
import type { KubeClient, KubeObject } from './kube.js';
import { microTime } from './leaderelection.js';
import { truncateBytes } from './redact.js';

/** Who reports events. */
export interface EventSource {
  /** reportingController, e.g. `integration.flant.com/flant-integration`. */
  readonly controller: string;
  /** reportingInstance: this process. */
  readonly instance: string;
}

/** Writes Events; a failure to write one is logged, never thrown. */
export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly source: EventSource,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Records an event about `regarding`. Cluster-scoped objects get their events in `default`. */
  async record(regarding: KubeObject, type: 'Normal' | 'Warning', reason: string, note: string, action = 'Reconcile'): Promise<void> {
    const namespace = regarding.metadata?.namespace ?? 'default';
    const name = `${regarding.metadata?.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(this.clock.now()),
      reportingController: this.source.controller,
      reportingInstance: this.source.instance,
      action,
      reason,
      // The API limits the note to 1 kB of UTF-8 (Cyrillic takes two bytes a letter).
      note: truncateBytes(note, 1024),
      type,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: regarding.metadata?.name,
        namespace: regarding.metadata?.namespace,
        uid: regarding.metadata?.uid,
        resourceVersion: regarding.metadata?.resourceVersion,
      },
    };
    try {
      await this.client.request('POST', `/apis/events.k8s.io/v1/namespaces/${namespace}/events`, { body });
    } catch (err) {
      this.log.warn({ err: errorText(err), reason }, 'could not record an event');
    }
  }
}
