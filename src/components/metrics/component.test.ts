import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeCertificates } from '../../../e2e/fakes/madison.js';
import { certificateBundleProblem } from './component.js';

const certs = makeCertificates('prometheus.test');
const ca = readFileSync(certs.caFile, 'utf8');
const server = certs.cert.toString('utf8');
const key = certs.key.toString('utf8');

describe('the Prometheus CA bundle the controller copies for the exporter', () => {
  it('accepts PEM certificates, one or several', () => {
    expect(certificateBundleProblem(ca)).toBeUndefined();
    expect(certificateBundleProblem(`${ca}\n${server}`)).toBeUndefined();
  });

  it.each([
    ['a private key', () => key, /a [A-Z ]*PRIVATE KEY block/],
    ['a certificate with its key', () => `${server}${key}`, /PRIVATE KEY block/],
    ['a token', () => 'eyJhbGciOiJSUzI1NiJ9.secret-token', 'no PEM block'],
    ['a certificate with a token after it', () => `${ca}\nsecret-token`, 'text outside the PEM blocks'],
    [
      'a CERTIFICATE block that is not one',
      () => '-----BEGIN CERTIFICATE-----\nc2VjcmV0IHZhbHVl\n-----END CERTIFICATE-----\n',
      'a certificate that does not parse',
    ],
    ['a huge value', () => ca.repeat(400), /over 262144 bytes/],
  ])('refuses %s', (_name, value, problem) => {
    expect(certificateBundleProblem(value())).toMatch(problem);
  });
});
