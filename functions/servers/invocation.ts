/** The subset of SSM GetCommandInvocation's answer the workflows pass to their tasks. */
export interface Invocation {
  Status?: string;
  StatusDetails?: string;
  ResponseCode?: number;
  StandardOutputContent?: string;
  StandardErrorContent?: string;
}

/** A command's result as an operation step's output. */
export const commandOutput = (invocation: Invocation) => ({
  exitCode: invocation.ResponseCode ?? -1,
  stdout: invocation.StandardOutputContent ?? '',
  stderr: invocation.StandardErrorContent ?? '',
});
