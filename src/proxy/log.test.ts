import { describe, expect, it } from 'vitest';
import { lineLogger } from './log.js';

describe('the proxy line logger', () => {
  it('writes pino-shaped JSON lines at its level and above, with secret fields redacted', () => {
    const lines: string[] = [];
    const log = lineLogger('info', ['authKey'], (l) => void lines.push(l));
    log.debug({ a: 1 }, 'hidden');
    log.info({ backend: '192.0.2.1:443', authKey: 'KEY-1' }, 'listening');
    log.warn({ err: 'refused' }, 'cannot forward');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => [p.level, p.msg])).toEqual([
      [30, 'listening'],
      [40, 'cannot forward'],
    ]);
    expect(parsed[0]).toMatchObject({ app: 'flant-integration', backend: '192.0.2.1:443', authKey: '[REDACTED]' });
    expect(lines.join('')).not.toContain('KEY-1');
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
  });
});
