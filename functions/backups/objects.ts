import { AbortMultipartUploadCommand, DeleteObjectCommand, NoSuchUpload } from '@aws-sdk/client-s3';
import { s3Client } from '../../layers/aws/clients';
import type { BackupObject } from '../../layers/model/backups';
import type { Platform } from '../../layers/runtime/platform';

/** Takes back what a backup began in the bucket: its uploads aborted, any completed object deleted. */
export async function discardObjects(platform: Platform, objects: readonly BackupObject[]) {
  for (const object of objects) {
    try {
      await s3Client().send(
        new AbortMultipartUploadCommand({
          Bucket: platform.config.BACKUPS_BUCKET,
          Key: object.key,
          UploadId: object.uploadId,
        }),
      );
    } catch (error) {
      if (!(error instanceof NoSuchUpload)) throw error;
    }
    await s3Client().send(
      new DeleteObjectCommand({ Bucket: platform.config.BACKUPS_BUCKET, Key: object.key }),
    );
  }
}
