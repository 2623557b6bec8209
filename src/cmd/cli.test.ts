import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';
import { programVersion } from './version.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** What `main(argv)` writes to stdout, and its exit code. */
async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const code = await main(argv, {});
  return { code, out };
}

describe('flant-integration version', () => {
  it.each([['version'], ['--version']])('%s names the program and the Node.js it runs on', async (arg) => {
    expect(await run([arg])).toEqual({ code: 0, out: `flant-integration ${programVersion} (Node.js ${process.version})\n` });
  });

  it('is listed in the usage', async () => {
    expect((await run(['help'])).out).toMatch(/^ {2}version /m);
  });
});
