import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';

const secretFields = ['licenceKey', 'token', 'authorization', 'data'];

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ app: 'test', secretFields, destination: stream }) };
}

describe('logger', () => {
  it.each([
    ['a top-level license key', { licenceKey: 'SECRET-1' }],
    ['a nested token', { request: { token: 'SECRET-1' } }],
    ['an authorization header two levels down', { req: { headers: { authorization: 'Bearer SECRET-1' } } }],
    ['Secret data', { secret: { data: { key: 'SECRET-1' } } }],
  ])('redacts %s', (_name, fields) => {
    const { lines, logger } = capture();
    logger.info(fields, 'something happened');
    logger.flush();
    expect(lines.join('')).toContain('something happened');
    expect(lines.join('')).not.toContain('SECRET-1');
  });
});
