import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.js';
import { Controller, type Reconciler } from './controller.js';
import { isLeadershipLost, isTerminal, LeadershipLostError, TerminalError } from './errors.js';
import { ManagerMetrics } from './metrics.js';

describe('isTerminal', () => {
  it.each([
    ['a TerminalError', new TerminalError('bad'), true],
    ['an Error caused by one', new Error('wrapped', { cause: new TerminalError('bad') }), true],
    [
      'an aggregate of terminal errors only',
      new AggregateError([new TerminalError('a'), new Error('b', { cause: new TerminalError('c') })], 'both'),
      true,
    ],
    ['an aggregate with one retryable error', new AggregateError([new TerminalError('a'), new Error('api down')], 'mixed'), false],
    ['a plain Error', new Error('api down'), false],
    ['an Error caused by an aggregate of terminal errors', new Error('outer', { cause: new AggregateError([new TerminalError('a')]) }), true],
    ['an empty aggregate', new AggregateError([], 'nothing'), false],
    ['a thrown string', 'boom', false],
  ])('%s: %s', (_name, err, terminal) => {
    expect(isTerminal(err)).toBe(terminal);
  });

  it('finds a lost leadership through aggregates and causes', () => {
    expect(isLeadershipLost(new AggregateError([new Error('x'), new Error('y', { cause: new LeadershipLostError() })]))).toBe(true);
    expect(isLeadershipLost(new Error('x'))).toBe(false);
  });
});

describe('Controller on the errors a reconcile ends with', () => {
  function setup(err: unknown) {
    const clock = new FakeClock();
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    let calls = 0;
    const reconciler: Reconciler = {
      reconcile: async () => {
        calls++;
        throw err;
      },
    };
    const metrics = new ManagerMetrics();
    const controller = new Controller('test', reconciler, {}, clock, metrics, log);
    return { clock, lines, metrics, controller, calls: () => calls };
  }

  async function run(err: unknown) {
    const s = setup(err);
    s.controller.start();
    s.controller.queue.add('k');
    await flush();
    await s.clock.advance(60_000);
    await flush();
    await s.controller.stop(0);
    const metrics = await s.metrics.registry.metrics();
    return {
      calls: s.calls(),
      lines: s.lines.join(''),
      terminal: /controller_runtime_terminal_reconcile_errors_total\{controller="test"\} (\d+)/.exec(metrics)?.[1] ?? '0',
    };
  }

  it('does not retry an aggregate of component failures that are all terminal, and counts it apart', async () => {
    const r = await run(
      new AggregateError(
        [new TerminalError('the spec names a kind we cannot write')],
        'components failed: toy: the spec names a kind we cannot write',
      ),
    );
    expect(r.calls).toBe(1);
    expect(r.terminal).toBe('1');
    expect(r.lines).toContain('will not be retried');
  });

  it('retries one that holds a retryable failure', async () => {
    const r = await run(new AggregateError([new TerminalError('a'), new Error('api down')], 'components failed'));
    expect(r.calls).toBeGreaterThan(1);
    expect(r.terminal).toBe('0');
  });

  it('neither retries nor logs as a failure a reconcile stopped by a lost leadership', async () => {
    const r = await run(new LeadershipLostError());
    expect(r.calls).toBe(1);
    expect(r.lines).not.toContain('retrying with backoff');
    expect(r.lines).toContain('no longer leads');
  });
});
