/**
 * The bench's floor: the least Node program that does the madison-proxy's job, to measure
 * side by side what Node itself costs for it on this machine. It accepts a post, sends it to
 * the stand-in over keep-alive TLS with the same CA, and pipes the answer back: no limits, no
 * counters, no logs, no checks. Never deployed. Settings from the same MADISON_* and LISTEN_*
 * variables as the proxy; prints nothing.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

const env = process.env;
const [host, port] = (env.MADISON_BACKEND ?? '').split(':');
const ca = env.MADISON_CA_FILE ? [...tls.rootCertificates, readFileSync(env.MADISON_CA_FILE, 'utf8')] : undefined;
const agent = new https.Agent({
  keepAlive: true,
  servername: env.MADISON_HOST ?? 'madison.flant.com',
  ...(ca ? { secureContext: tls.createSecureContext({ ca }) } : {}),
});
const path = `/api/events/prometheus/${env.MADISON_AUTH_KEY ?? ''}`;

http
  .createServer((req, res) => {
    const out = https.request(
      {
        host,
        port: Number(port),
        agent,
        method: req.method,
        path: req.url === '/readyz' ? '/healthz' : path,
        headers: { ...req.headers, host: 'madison.flant.com' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  })
  .listen(Number(env.LISTEN_PORT ?? 8080), env.LISTEN_HOST ?? '127.0.0.1');
