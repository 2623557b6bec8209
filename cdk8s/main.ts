/**
 * `npm run generate`: writes every generated file (see files.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generatedFiles } from './files.js';

for (const [path, content] of generatedFiles()) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  process.stderr.write(`wrote ${path}\n`);
}
