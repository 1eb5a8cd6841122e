/** A conditional write did not hold: the item exists, is missing, or changed since it was read. */
export class ConditionFailedError extends Error {
  constructor(cause?: unknown) {
    super('Condition failed', { cause });
    this.name = 'ConditionFailedError';
  }
}

/**
 * A transaction DynamoDB refused. `refusedBy(name)` says whether the condition of the item
 * written under that name did not hold; `refusedNames` lists every such name.
 */
export class TransactionFailedError extends Error {
  /** DynamoDB's reason for each item, in the order written (for logs; callers ask by name) */
  readonly reasons: string[];
  readonly refusedNames: string[];
  constructor(reasons: string[], names: (string | undefined)[] = [], cause?: unknown) {
    const refused = names.filter(
      (name, i): name is string => !!name && reasons[i] === 'ConditionalCheckFailed',
    );
    super(`Transaction cancelled: ${reasons.map((r, i) => (names[i] ? `${names[i]} ${r}` : r)).join(', ')}`, {
      cause,
    });
    this.name = 'TransactionFailedError';
    this.reasons = reasons;
    this.refusedNames = refused;
  }

  /** Whether the item written under this name was refused by its condition. */
  refusedBy(name: string): boolean {
    return this.refusedNames.includes(name);
  }
}

/** Whether an error is a transaction refused by the condition of the item written under `name`. */
export const refusedBy = (error: unknown, name: string): boolean =>
  error instanceof TransactionFailedError && error.refusedBy(name);
