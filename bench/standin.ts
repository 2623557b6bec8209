/**
 * The bench's Madison stand-in: HTTPS on 127.0.0.1 with the test CA's certificate for
 * madison.flant.com, answering 200 `{}` to every alert post and to /healthz, recording
 * nothing (so its memory stays flat under load). Prints its port, then serves until killed.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.';
const server = https.createServer({ cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server.key')) }, (req, res) => {
  req.resume();
  req.on('end', () => {
    const ok = req.url === '/healthz' || req.url?.startsWith('/api/events/prometheus/');
    res.writeHead(ok ? 200 : 404, { 'Content-Type': 'application/json', 'Content-Length': '2' }).end('{}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
