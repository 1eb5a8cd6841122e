import type { BackupObject } from '../../layers/model/backups';
import type { BackupStorage } from './storage';

/**
 * Takes back what a backup began in its storage: its uploads aborted, any completed object and
 * its manifest deleted.
 */
export async function discardObjects(
  storage: BackupStorage,
  objects: readonly BackupObject[],
  manifestKey?: string | undefined,
) {
  if (manifestKey) await storage.discard({ key: manifestKey, uploadId: '' });
  for (const object of objects) await storage.discard(object);
}
