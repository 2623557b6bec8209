/**
 * The stand-ins for Flant's services as one program, for a pod of the kind suite: Madison
 * (HTTPS on 8443) and Connect (HTTPS on 9443), fixed (a Service named madison would set
 * MADISON_PORT in the pod's environment),
 * both with the certificate in TLS_DIR (tls.crt, tls.key: signed by the suite's own CA,
 * which the suite's images trust). Each request is one JSON line on stdout, which is what
 * the suite (and a person, with `kubectl logs`) reads: Madison's path, Host and body; for
 * Connect the path, whether the bearer was the licence (never the value), and for
 * remote_write the decoded flant_pricing_* samples.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeConnect } from '../fakes/connect.js';
import { FakeMadison } from '../fakes/madison.js';
import { standinPorts, type StandinLine } from './standin-log.js';

function line(value: StandinLine): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function main(): Promise<void> {
  const licence = process.env.LICENCE ?? '';
  if (!licence) throw new Error('LICENCE is not set');
  const dir = process.env.TLS_DIR ?? '/tls';
  const tls = { cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')) };
  const madison = new FakeMadison({
    host: '0.0.0.0',
    port: standinPorts.madison,
    tls,
    onRequest: (r) => line({ server: 'madison', ...r, body: r.body.slice(0, 8192) }),
  });
  const connect = new FakeConnect(licence, {
    host: '0.0.0.0',
    port: standinPorts.connect,
    tls,
    onRequest: (r) => line({ server: 'connect', path: r.path, licence: r.authorization === `Bearer ${licence}` }),
  });
  await Promise.all([madison.start(), connect.start()]);
  // remote_write pushes are decoded by FakeConnect after onRequest; report their pricing samples here.
  let reported = 0;
  setInterval(() => {
    for (; reported < connect.remoteWrites.length; reported++) {
      const push = connect.remoteWrites[reported];
      if (!push) continue;
      const pricing = push.series
        .filter((s) => s.labels.__name__?.startsWith('flant_pricing_'))
        .map((s) => ({
          name: s.labels.__name__ ?? '',
          labels: Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== '__name__')),
          value: s.samples.at(-1)?.value ?? Number.NaN,
        }));
      line({ server: 'connect', path: '/v1/remote_write', licence: push.authorization === `Bearer ${licence}`, pricing });
    }
    for (const error of connect.badRemoteWrites.splice(0)) line({ server: 'connect', path: '/v1/remote_write', licence: false, error });
  }, 500).unref();
  process.stderr.write(`stand-ins ready: madison :${standinPorts.madison}, connect :${standinPorts.connect}\n`);
  const stop = () => void Promise.all([madison.stop(), connect.stop()]).then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`stand-ins: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
