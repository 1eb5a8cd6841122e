import { defineOperationKinds } from '../servers/operation-kinds';
import { settleDatabase, settleDatabaseRefresh, settleDatabaseUser } from './settle';

/** The databases context's operations on a server, each run by the database document and settling its record. */
export const databaseOperationKinds = defineOperationKinds<{ databaseId: string; userId: string }>()({
  'create-database': {
    workflow: 'run-command',
    document: 'database',
    cancel: false,
    onEnd: settleDatabase,
    explainsFailure: true,
  },
  'delete-database': {
    workflow: 'run-command',
    document: 'database',
    cancel: false,
    onEnd: settleDatabase,
    explainsFailure: true,
  },
  'create-database-user': {
    workflow: 'run-command',
    document: 'database',
    cancel: false,
    onEnd: settleDatabaseUser,
    explainsFailure: true,
  },
  'update-database-user': {
    workflow: 'run-command',
    document: 'database',
    cancel: false,
    onEnd: settleDatabaseUser,
    explainsFailure: true,
  },
  'delete-database-user': {
    workflow: 'run-command',
    document: 'database',
    cancel: false,
    onEnd: settleDatabaseUser,
    explainsFailure: true,
  },
  // reads the engine's state and its databases' sizes
  'refresh-databases': {
    workflow: 'run-command',
    document: 'database',
    cancel: false,
    onEnd: settleDatabaseRefresh,
    explainsFailure: true,
  },
});
