import { describe, expect, it } from 'vitest';
import { redactValues, truncateBytes } from './redact.js';

describe('redactValues', () => {
  it('replaces every occurrence of every value, longest first, and leaves tiny values alone', () => {
    expect(redactValues('a SECRET-1 b SECRET-1-LONG c', ['SECRET-1', 'SECRET-1-LONG', undefined, 'ab'])).toBe('a [REDACTED] b [REDACTED] c');
  });
});

describe('truncateBytes', () => {
  it.each<[string, string, number, string]>([
    ['ASCII within the limit', 'hello', 10, 'hello'],
    ['ASCII cut', 'hello world', 5, 'hello'],
    ['Cyrillic cut between letters', 'привет', 6, 'при'],
    ['Cyrillic cut inside a letter', 'привет', 7, 'при'],
    ['an emoji never split', 'a😀b', 3, 'a'],
  ])('%s', (_name, text, max, want) => {
    expect(truncateBytes(text, max)).toBe(want);
    expect(Buffer.byteLength(truncateBytes(text, max))).toBeLessThanOrEqual(max);
  });
});
