import { AbortMultipartUploadCommand, DeleteObjectCommand, NoSuchUpload } from '@aws-sdk/client-s3';
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
  if (manifestKey)
    await storage.client.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: manifestKey }));
  for (const object of objects) {
    try {
      await storage.client.send(
        new AbortMultipartUploadCommand({
          Bucket: storage.bucket,
          Key: object.key,
          UploadId: object.uploadId,
        }),
      );
    } catch (error) {
      if (!(error instanceof NoSuchUpload)) throw error;
    }
    await storage.client.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: object.key }));
  }
}
