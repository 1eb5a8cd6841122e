import { backupOperationKinds } from './backups/operation-kinds';
import { databaseOperationKinds } from './databases/operation-kinds';
import { mergeOperationKinds, serverOperationKinds } from './servers/operation-kinds';
import { siteOperationKinds } from './sites/operation-kinds';

/**
 * Every context's operation kinds: the one line a context with operations on servers adds here
 * (each declares its own in functions/<context>/operation-kinds.ts). The workflow tasks settle a
 * command's ending by its kind from this list.
 */
export const operationKinds = mergeOperationKinds(
  serverOperationKinds,
  siteOperationKinds,
  databaseOperationKinds,
  backupOperationKinds,
);
