/**
 * Client of the Connect service: Madison registration and the revocation check
 * (docs/architecture.md section 3, madison). The licence is sent as a bearer token and never appears
 * in an error message.
 */
import { redactValues } from '../reconciler/redact.js';
import { postJSON, type ProxySettings } from './http.js';

/** What Connect knows about a Madison key. */
export type MadisonKeyState = 'active' | 'revoked';

/** Facts sent at registration. */
export interface MadisonRegistration {
  /** Prometheus URL, when known. */
  readonly prometheusURL?: string;
  /** Grafana URL, when known. */
  readonly grafanaURL?: string;
  /** Labels of the cluster, such as `cluster_uuid`. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Connect answered, but not with success: `"<code> <status text>[: <error>]"`. */
export class ConnectHTTPError extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly serverError: string,
  ) {
    super(`${status} ${statusText}${serverError ? `: ${serverError}` : ''}`);
    this.name = 'ConnectHTTPError';
  }
}

/** Connect could not be reached or answered something that is not its protocol. */
export class ConnectUnreachableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectUnreachableError';
  }
}

/** Options of the Connect client. */
export interface ConnectOptions {
  /** Base URL, e.g. `https://connect.deckhouse.io`. */
  readonly url: string;
  /** The licence key, sent as the bearer token. */
  readonly licence: string;
  /** Egress proxy. @default none */
  readonly proxy?: ProxySettings;
  /** Deadline of one exchange. @default 10000 */
  readonly timeoutMs?: number;
  /** Aborts every request (the process stopped leading). @default none */
  readonly signal?: AbortSignal;
}

interface ConnectAnswer {
  auth_key?: string;
  error?: string;
}

/** The registration body: `{"madisonData": "<JSON string>"}`. */
export function registrationBody(data: MadisonRegistration): { madisonData: string } {
  const known = Boolean(data.prometheusURL || data.grafanaURL);
  const inner = {
    ...(known ? { type: 'prometheus' } : {}),
    name: '',
    prometheus_url: data.prometheusURL ?? '-',
    grafana_url: data.grafanaURL ?? '-',
    extra_data: { labels: data.labels },
  };
  return { madisonData: JSON.stringify(inner) };
}

/** Talks to Connect. */
export class ConnectClient {
  constructor(private readonly options: ConnectOptions) {}

  /** Registers the cluster with Madison and returns the issued key. */
  async registerMadison(data: MadisonRegistration): Promise<string> {
    const answer = await this.post('/v1/madison_register', registrationBody(data));
    const key: unknown = answer.auth_key;
    if (typeof key !== 'string' || key.trim() === '') throw new ConnectHTTPError(200, 'OK', 'the answer has no auth_key string');
    return key.trim();
  }

  /** Asks whether a Madison key is still active. Only 401 with "Archived setup" means revoked. */
  async madisonKeyState(authKey: string): Promise<MadisonKeyState> {
    try {
      await this.post('/v1/madison_status', { auth_key: authKey });
      return 'active';
    } catch (err) {
      if (err instanceof ConnectHTTPError && err.status === 401 && err.serverError === 'Archived setup') return 'revoked';
      throw err;
    }
  }

  /**
   * POSTs `body` with the licence as bearer token. Whatever the server says back goes into
   * error messages only after the licence and any key sent are scrubbed out of it: a server
   * that echoes a header must not put the licence in a condition, an Event or a log line.
   */
  private async post(path: string, body: { auth_key?: string } | object): Promise<ConnectAnswer> {
    const url = new URL(path.replace(/^\//, ''), this.options.url.replace(/\/*$/, '/'));
    const secrets = [this.options.licence, (body as { auth_key?: string }).auth_key];
    const scrub = (text: string) => redactValues(text, secrets);
    let answer;
    try {
      answer = await postJSON(
        url,
        body,
        { Authorization: `Bearer ${this.options.licence}` },
        this.options.proxy,
        this.options.timeoutMs ?? 10_000,
        this.options.signal,
      );
    } catch (err) {
      throw new ConnectUnreachableError(scrub(`cannot reach Connect at ${url.origin}: ${err instanceof Error ? err.message : String(err)}`));
    }
    const parsed = parseAnswer(answer.body);
    const serverError = typeof parsed.error === 'string' ? scrub(parsed.error) : '';
    if (answer.status !== 200 || serverError) throw new ConnectHTTPError(answer.status, scrub(answer.statusText), serverError);
    return parsed;
  }
}

function parseAnswer(body: string): ConnectAnswer {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}
