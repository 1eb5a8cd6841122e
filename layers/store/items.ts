import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

/** The primary key of an item. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** What every stored item carries besides its own attributes. */
export interface StoredItem extends ItemKey {
  version?: number;
  expiresAt?: number;
  [attribute: string]: unknown;
}

type TransactWriteItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * One write of a transaction; the store fills in the table name. A named one (`named('lock',
 * ...)`) is told apart when the transaction is refused: the error says which named items'
 * conditions did not hold, so no caller counts positions in another function's transaction.
 */
export type TransactItem = {
  [K in keyof TransactWriteItem]?: Omit<NonNullable<TransactWriteItem[K]>, 'TableName'>;
} & { name?: string };
