import { type BackupTestRestore, backupKeys } from '../../layers/model/backups';
import { serverOf } from '../../layers/model/servers';
import { siteOf } from '../../layers/model/sites';
import { logger, metrics } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { updateItem } from '../../layers/store/writes';
import type { Invocation } from '../servers/commands/invocation';
import { documentSafe } from '../servers/stack/service';
import { noHostKey } from '../sites/change';
import { sealedRestorePlan } from './restore';
import { type EndedBackupCommand, runningBackup } from './settle';

/** The backup-site execution's input, as its test-restore steps read it. */
export type TestRestoreInput = EndedBackupCommand & { correlationId: string };

/** The backup the workflow is making, once its uploads are complete (it has a manifest). */
async function backupUnderTest(platform: Platform, input: TestRestoreInput) {
  const backup = await runningBackup(platform.store, input);
  if (!backup.manifest) throw new Error(`The backup ${input.backupId} has no manifest yet`);
  return backup;
}

/**
 * The restore-site document's parameters for a test restore of the backup just made: every
 * object fetched through a presigned GET and checked, the files unpacked in scratch beside the
 * site's home and each dump loaded into a scratch database, counted, then all removed.
 */
export async function planTestRestore(platform: Platform, input: TestRestoreInput) {
  const backup = await backupUnderTest(platform, input);
  const site = await siteOf(platform, backup.tenantId, backup.siteId);
  const server = await serverOf(platform, site.tenantId, site.serverId);
  if (!server.hostKey) throw noHostKey();
  const planSealed = await sealedRestorePlan(platform, server.hostKey, backup, backup.objects, (d) => ({
    engine: d.engine,
    name: d.name,
  }));
  return {
    parameters: {
      siteUser: [site.systemUser],
      restoreId: [platform.ids.next('rst').slice(4)],
      planSealed: [planSealed],
      mode: ['test'],
      correlationId: [documentSafe(input.correlationId)],
    },
  };
}

/** What a test restore's command printed: the entries the files unpacked to, each dump's tables. */
export function parseTestRestore(stdout: string): Pick<BackupTestRestore, 'files' | 'databases'> {
  const files = /^test: files (\d+)$/m.exec(stdout)?.[1];
  const databases = [...stdout.matchAll(/^test: database (\S+) tables (\d+)$/gm)].map((m) => ({
    name: m[1] as string,
    tables: Number(m[2]),
  }));
  return {
    ...(files === undefined ? {} : { files: Number(files) }),
    ...(databases.length > 0 ? { databases } : {}),
  };
}

/**
 * A test restore's result on the backup; a failure is
 * logged and counted (its alarm), and the backup is kept: it read back as it was sent.
 */
export async function recordTestRestore(
  platform: Platform,
  input: TestRestoreInput,
  state: { testInvocation?: Invocation; testFailure?: { Error?: string; Cause?: string } },
) {
  const backup = await backupUnderTest(platform, input);
  const at = platform.clock.now().toISOString();
  const invocation = state.testInvocation;
  const passed = !state.testFailure && invocation?.Status === 'Success';
  const said = (invocation?.StandardErrorContent ?? '').trim().split('\n').slice(-3).join('\n');
  const result: BackupTestRestore = {
    status: passed ? 'passed' : 'failed',
    at,
    ...parseTestRestore(invocation?.StandardOutputContent ?? ''),
    ...(passed
      ? {}
      : {
          detail: (
            said ||
            state.testFailure?.Cause ||
            `The test restore ended ${invocation?.Status ?? 'without running'}`
          ).slice(0, 1000),
        }),
  };
  await platform.store.transact([
    updateItem(
      backupKeys.item(backup.tenantId, backup.siteId, backup.id),
      { set: { testRestore: result } },
      { equals: { operationId: input.operationId } },
    ),
  ]);
  if (!passed) {
    logger.error('A backup did not restore in scratch', { backupId: backup.id, detail: result.detail });
    metrics.addMetric('BackupTestRestoreFailed', 'Count', 1);
  }
  return {};
}
