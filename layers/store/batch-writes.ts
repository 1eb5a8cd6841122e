import { BatchExecuteStatementCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { logger } from '../observability/logger';
import type { StoredItem } from './items';

/** One PartiQL write of a batch, its values in the order of its `?`s. */
export interface Statement {
  statement: string;
  parameters: unknown[];
}

/**
 * What became of one write of a batch: written, refused by its condition (`conflict`), or refused
 * by DynamoDB for another reason (`failed`: throttled, an internal error), to be tried again alone.
 */
export type BatchOutcome = 'written' | 'conflict' | 'failed';

/** A name as a PartiQL identifier, double-quoted (attribute names like `count` are reserved). */
export const partiqlName = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** PartiQL writes DynamoDB takes in one BatchExecuteStatement. */
const STATEMENTS_PER_BATCH = 25;

/** The store's batched conditional writes: each applied or refused on its own, never all or nothing. */
export function makeBatchWrites(client: DynamoDBDocumentClient, tableName: string) {
  /**
   * PartiQL writes, 25 to a request (BatchExecuteStatement) with `inFlight` requests at once:
   * each statement applied or refused on its own, never all or nothing. Answers each one's
   * outcome in order; a request that fails whole (after the SDK's retries) fails its statements.
   * A batch may not write one item twice.
   */
  async function executeAll(statements: Statement[], inFlight = 1): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = [];
    const limit = pLimit(inFlight);
    await Promise.all(
      Array.from({ length: Math.ceil(statements.length / STATEMENTS_PER_BATCH) }, (_, chunk) =>
        limit(async () => {
          const from = chunk * STATEMENTS_PER_BATCH;
          const batch = statements.slice(from, from + STATEMENTS_PER_BATCH);
          try {
            const { Responses = [] } = await client.send(
              new BatchExecuteStatementCommand({
                Statements: batch.map(({ statement, parameters }) => ({
                  Statement: statement,
                  Parameters: parameters,
                })),
              }),
            );
            const refused: Record<string, number> = {};
            batch.forEach((_, i) => {
              const code = Responses[i]?.Error?.Code;
              outcomes[from + i] =
                code === undefined
                  ? 'written'
                  : code === 'ConditionalCheckFailed' || code === 'DuplicateItem'
                    ? 'conflict'
                    : 'failed';
              if (outcomes[from + i] === 'failed') refused[String(code)] = (refused[String(code)] ?? 0) + 1;
            });
            if (Object.keys(refused).length > 0) logger.warn('Batched writes refused', { refused });
          } catch (error) {
            // throttled past the SDK's retries, or not allowed (PartiQL needs its own IAM actions)
            logger.warn('A batch of writes failed whole', {
              error: error as Error,
              statements: batch.length,
            });
            batch.forEach((_, i) => {
              outcomes[from + i] = 'failed';
            });
          }
        }),
      ),
    );
    return outcomes;
  }

  /**
   * putIfVersion for many items at once, through executeAll: each item written whole only while
   * it is still as it was read (`read`; absent: only while there is none). A new item is an
   * INSERT; a read one an UPDATE that sets every attribute the item has and removes those it
   * no longer has, where the version is still the one read. Answers each item's outcome in order.
   */
  async function putAllIfVersion(
    writes: { item: StoredItem; read?: StoredItem | undefined }[],
    inFlight = 1,
  ): Promise<BatchOutcome[]> {
    const table = partiqlName(tableName);
    const statements = writes.map(({ item, read }): Statement => {
      const attributes = Object.entries(item).filter(([, value]) => value !== undefined);
      if (!read) {
        return {
          statement: `INSERT INTO ${table} VALUE {${attributes.map(([name]) => `'${name.replaceAll("'", "''")}': ?`).join(', ')}}`,
          parameters: attributes.map(([, value]) => value),
        };
      }
      const set = attributes.filter(([name]) => name !== 'pk' && name !== 'sk');
      const removed = Object.keys(read).filter((name) => item[name] === undefined);
      return {
        statement: [
          `UPDATE ${table}`,
          ...set.map(([name]) => `SET ${partiqlName(name)} = ?`),
          ...removed.map((name) => `REMOVE ${partiqlName(name)}`),
          `WHERE "pk" = ? AND "sk" = ? AND ${read.version === undefined ? '"version" IS MISSING' : '"version" = ?'}`,
        ].join(' '),
        parameters: [
          ...set.map(([, value]) => value),
          item.pk,
          item.sk,
          ...(read.version === undefined ? [] : [read.version]),
        ],
      };
    });
    return executeAll(statements, inFlight);
  }

  return { executeAll, putAllIfVersion };
}
