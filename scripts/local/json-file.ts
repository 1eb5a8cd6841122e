import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A JSON document kept in a file (atomically replaced on save), or only in memory when no path is given. */
export function jsonFile<T>(path: string | undefined, initial: T): { data: T; save(): void } {
  let data = initial;
  if (path) {
    try {
      data = JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch {
      data = initial;
    }
  }
  return {
    data,
    save() {
      if (!path) return;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(`${path}.tmp`, JSON.stringify(this.data, null, 2));
      renameSync(`${path}.tmp`, path);
    },
  };
}
