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

/** The public half of the host's key a health check reports (`host-key: <base64 PEM>`), if any. */
export const reportedHostKey = (invocation: Invocation): string | undefined => {
  const encoded = /^host-key: ([A-Za-z0-9+/=]+)$/m.exec(invocation.StandardOutputContent ?? '')?.[1];
  const pem = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
  return pem?.startsWith('-----BEGIN PUBLIC KEY-----') ? pem : undefined;
};

/** What a health check tells of the host: its boot, and its key. */
export const reportedHost = (invocation: Invocation): { bootId?: string; hostKey?: string } => {
  const bootId = reportedBoot(invocation);
  const hostKey = reportedHostKey(invocation);
  return { ...(bootId ? { bootId } : {}), ...(hostKey ? { hostKey } : {}) };
};

/** A command's result as an operation step's output. */
export const commandOutput = (invocation: Invocation) => ({
  exitCode: invocation.ResponseCode ?? -1,
  stdout: invocation.StandardOutputContent ?? '',
  stderr: invocation.StandardErrorContent ?? '',
});
