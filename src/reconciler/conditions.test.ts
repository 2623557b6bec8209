import { describe, expect, it } from 'vitest';
import { changedConditions, firstFailure, maxConditionMessageBytes, setCondition, type Condition } from './conditions.js';

const t0 = '2026-01-01T00:00:00Z';
const t1 = '2026-01-01T00:05:00Z';
const licence = (status: Condition['status'], reason: string, message = 'm'): Condition => ({
  type: 'LicenseValid',
  status,
  reason,
  message,
  lastTransitionTime: t0,
  observedGeneration: 1,
});

describe('setCondition', () => {
  const cases: Array<{ name: string; before: Condition[]; input: Omit<Condition, 'lastTransitionTime'>; time: string; generation: number }> = [
    {
      name: 'adds a new condition with now',
      before: [],
      input: { type: 'LicenseValid', status: 'True', reason: 'LicenseFound', message: 'm' },
      time: t1,
      generation: 1,
    },
    {
      name: 'keeps the time when only the message changes',
      before: [licence('False', 'SecretNotFound', 'a')],
      input: { type: 'LicenseValid', status: 'False', reason: 'SecretNotFound', message: 'b' },
      time: t0,
      generation: 1,
    },
    {
      name: 'keeps the time when only the reason changes',
      before: [licence('False', 'SecretNotFound')],
      input: { type: 'LicenseValid', status: 'False', reason: 'KeyNotFound', message: 'm' },
      time: t0,
      generation: 1,
    },
    {
      name: 'moves the time when the status flips',
      before: [licence('False', 'SecretNotFound')],
      input: { type: 'LicenseValid', status: 'True', reason: 'LicenseFound', message: 'm' },
      time: t1,
      generation: 1,
    },
    {
      name: 'stamps the generation',
      before: [licence('True', 'LicenseFound')],
      input: { type: 'LicenseValid', status: 'True', reason: 'LicenseFound', message: 'm' },
      time: t0,
      generation: 7,
    },
  ];

  it.each(cases)('$name', ({ before, input, time, generation }) => {
    const [after] = setCondition(before, input, generation, t1);
    expect(after).toEqual({ ...input, lastTransitionTime: time, observedGeneration: generation });
  });

  it('keeps other conditions and their order', () => {
    const ready: Condition = { type: 'Ready', status: 'False', reason: 'R', message: '', lastTransitionTime: t0 };
    const after = setCondition(
      [ready, licence('False', 'SecretNotFound')],
      { type: 'LicenseValid', status: 'True', reason: 'LicenseFound', message: 'm' },
      1,
      t1,
    );
    expect(after.map((c) => c.type)).toEqual(['Ready', 'LicenseValid']);
    expect(after[0]).toBe(ready);
  });

  it('gives an equal list when nothing changed, so no write follows', () => {
    const before = [licence('True', 'LicenseFound')];
    const after = setCondition(before, { type: 'LicenseValid', status: 'True', reason: 'LicenseFound', message: 'm' }, 1, t1);
    expect(after).toEqual(before);
    expect(changedConditions(before, after)).toEqual([]);
  });

  it('reports conditions whose status or reason changed', () => {
    const before = [licence('False', 'SecretNotFound')];
    const after = setCondition(before, { type: 'LicenseValid', status: 'False', reason: 'KeyNotFound', message: 'm' }, 1, t1);
    expect(changedConditions(before, after).map((c) => c.reason)).toEqual(['KeyNotFound']);
  });
});

describe('firstFailure', () => {
  it('returns the first failing check in order', () => {
    const checks = [
      (n: number) => (n < 0 ? { reason: 'Negative', message: 'below zero' } : undefined),
      (n: number) => (n > 10 ? { reason: 'TooBig', message: 'over ten' } : undefined),
      (n: number) => (n !== 5 ? { reason: 'NotFive', message: 'not five' } : undefined),
    ];
    expect(firstFailure(-1, checks)?.reason).toBe('Negative');
    expect(firstFailure(11, checks)?.reason).toBe('TooBig');
    expect(firstFailure(3, checks)?.reason).toBe('NotFive');
    expect(firstFailure(5, checks)).toBeUndefined();
  });
});

describe('setCondition caps the message', () => {
  it('cuts a message over 2048 bytes at a character boundary and says so; a shorter one is kept whole', () => {
    const long = 'é'.repeat(40_000);
    const [after] = setCondition([], { type: 'MadisonRegistered', status: 'False', reason: 'RegistrationFailed', message: long }, 1, t1);
    expect(Buffer.byteLength(after?.message ?? '')).toBeLessThanOrEqual(maxConditionMessageBytes);
    expect(after?.message.endsWith('é … (cut)')).toBe(true);
    const exact = 'a'.repeat(maxConditionMessageBytes);
    expect(setCondition([], { type: 'X', status: 'True', reason: 'R', message: exact }, 1, t1)[0]?.message).toBe(exact);
  });
});
