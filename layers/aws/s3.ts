import { S3Client } from '@aws-sdk/client-s3';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/**
 * S3, for backups: path-style at a local endpoint; checksums only where S3 requires them, since
 * the parts that hosts upload through presigned URLs carry their own SHA-256 in the manifest.
 */
export const s3Client = once(() => {
  const endpoint = getConfig().S3_ENDPOINT;
  return new S3Client({
    ...base(endpoint),
    ...(endpoint ? { forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});
