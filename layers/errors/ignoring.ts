/** Runs an action and lets errors of one kind pass: "already gone" when undoing something. */
export async function ignoring<E extends abstract new (...args: never[]) => Error>(
  kind: E,
  action: () => Promise<unknown>,
): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof kind)) throw error;
  }
}
