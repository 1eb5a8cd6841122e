/** The subset of SSM GetCommandInvocation's answer the workflows pass to their tasks. */
export interface Invocation {
  Status?: string;
  StatusDetails?: string;
  ResponseCode?: number;
  StandardOutputContent?: string;
  StandardErrorContent?: string;
}

/** The boot a health check reports (`boot: <id>`, the kernel's boot_id), if it ran that far. */
export const reportedBoot = (invocation: Invocation): string | undefined =>
  /^boot: ([0-9a-f-]{36})$/m.exec(invocation.StandardOutputContent ?? '')?.[1];

/** A command's result as an operation step's output. */
export const commandOutput = (invocation: Invocation) => ({
  exitCode: invocation.ResponseCode ?? -1,
  stdout: invocation.StandardOutputContent ?? '',
  stderr: invocation.StandardErrorContent ?? '',
});
