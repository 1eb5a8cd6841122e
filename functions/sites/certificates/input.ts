/** What the issue-certificate workflow is started with. */
export interface CertificateInput {
  tenantId: string;
  serverId: string;
  siteId: string;
  operationId: string;
  correlationId: string;
  kind: 'issue-certificate';
  instanceId: string;
  /** the site document, which places the challenges' answers and then installs the certificate */
  documentName: string;
  directoryUrl: string;
}

/** The operation's steps: the order placed, the CA's validation and issuance, the install on the host. */
export const certificateSteps = ['order', 'validate', 'install'] as const;
