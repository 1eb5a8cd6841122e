import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);

/** Every test file of the project, as a path from the repository's root. */
const testFiles = () =>
  ['functions', 'layers', 'scripts', 'infra', 'step-functions', 'test'].flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, root), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => `${dir}/${file}`),
  );

describe('Module: where tests live', () => {
  it('boots the whole local runtime only in the end-to-end layer, and keeps other tests beside their code', () => {
    const files = testFiles();
    expect(files.length).toBeGreaterThan(40);
    const bootsRuntime = (file: string) =>
      /\b(startTestRuntime|startLocalRuntime)\(/.test(readFileSync(new URL(file, root), 'utf8'));
    const outside = files.filter((file) => !file.startsWith('test/e2e/') && bootsRuntime(file));
    expect(outside).toEqual([]);
    const stray = files.filter(
      (file) => file.startsWith('test/') && !file.startsWith('test/e2e/') && file !== 'test/layout.test.ts',
    );
    expect(stray).toEqual([]);
  });
});
