import { randomBytes, randomUUID } from 'node:crypto';
import { stringLike, TENANT_SESSION_TAG, TENANT_TAG_PATTERN } from '../../layers/auth/tenant-policy';

/** A role session the stand-in handed out: what IAM would remember of it. */
export interface LocalSession {
  roleArn: string;
  sessionName: string;
  tags: Record<string, string>;
  expiration: Date;
  secretAccessKey: string;
  sessionToken: string;
}

const xmlEscape = (value: string) =>
  value.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

/**
 * AWS STS, locally: AssumeRole over the Query protocol (form-encoded request, XML answer),
 * as the SDK's credential providers call it. It plays the tenant data role's trust policy
 * (only that role, and only with a `tenant` tag naming a tenant id) and remembers each
 * session's tags, so the local runtime can hold tenant sessions to the role's policy. Roles
 * in customers' accounts are trusted as their owners wrote it: the platform's account may
 * assume one only with the external id its trust policy names.
 */
export function makeLocalSts(options: { assumableRoleArns: string[]; account: string }) {
  const sessions = new Map<string, LocalSession>();
  /** customers' roles that trust the platform's account, with the external id they require */
  const customerRoles = new Map<string, string>();

  const error = (status: number, code: string, message: string) => ({
    status,
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  });

  function assumeRole(form: URLSearchParams) {
    const roleArn = form.get('RoleArn') ?? '';
    const sessionName = form.get('RoleSessionName') ?? '';
    const duration = Number(form.get('DurationSeconds') ?? 3600);
    const tags: Record<string, string> = {};
    for (let i = 1; form.has(`Tags.member.${i}.Key`); i += 1) {
      tags[form.get(`Tags.member.${i}.Key`) ?? ''] = form.get(`Tags.member.${i}.Value`) ?? '';
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      return error(400, 'ValidationError', 'RoleSessionName is not valid');
    }
    if (!(duration >= 900 && duration <= 43_200)) {
      return error(400, 'ValidationError', 'DurationSeconds must be between 900 and 43200');
    }
    const denied = error(
      403,
      'AccessDenied',
      `User: arn:aws:sts::${options.account}:assumed-role/platform is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
    const requiredExternalId = customerRoles.get(roleArn);
    if (requiredExternalId !== undefined) {
      if (form.get('ExternalId') !== requiredExternalId) return denied;
    } else {
      const tenant = tags[TENANT_SESSION_TAG];
      if (!options.assumableRoleArns.includes(roleArn) || !tenant || !stringLike(tenant, TENANT_TAG_PATTERN))
        return denied;
    }
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const expiration = new Date(Date.now() + duration * 1000);
    const secretAccessKey = randomBytes(30).toString('base64');
    const sessionToken = randomBytes(32).toString('base64');
    sessions.set(accessKeyId, { roleArn, sessionName, tags, expiration, secretAccessKey, sessionToken });
    const roleName = roleArn.split('/').pop() ?? '';
    return {
      status: 200,
      body: [
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>',
        `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId>`,
        `<SecretAccessKey>${secretAccessKey}</SecretAccessKey>`,
        `<SessionToken>${sessionToken}</SessionToken>`,
        `<Expiration>${expiration.toISOString()}</Expiration></Credentials>`,
        `<AssumedRoleUser><AssumedRoleId>AROALOCAL:${xmlEscape(sessionName)}</AssumedRoleId>`,
        `<Arn>arn:aws:sts::${options.account}:assumed-role/${xmlEscape(roleName)}/${xmlEscape(sessionName)}</Arn></AssumedRoleUser>`,
        `<PackedPolicySize>${Object.keys(tags).length}</PackedPolicySize>`,
        `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      ].join(''),
    };
  }

  return {
    /** A customer's role that lets the platform's account assume it with this external id (its trust policy). */
    trustRole(roleArn: string, externalId: string) {
      customerRoles.set(roleArn, externalId);
    },
    /** The session behind an access key id, while it has not expired. */
    session(accessKeyId: string): LocalSession | undefined {
      const session = sessions.get(accessKeyId);
      return session && session.expiration.getTime() > Date.now() ? session : undefined;
    },
    /** Answers a Query-protocol request to STS, or undefined when the body is not one. */
    handle(contentType: string, body: string): { status: number; body: string } | undefined {
      if (!contentType.startsWith('application/x-www-form-urlencoded')) return undefined;
      const form = new URLSearchParams(body);
      if (form.get('Action') !== 'AssumeRole') return undefined;
      return assumeRole(form);
    },
  };
}

export type LocalSts = ReturnType<typeof makeLocalSts>;
