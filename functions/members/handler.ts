import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { created, etag, ok, versionFromIfMatch } from '../../layers/http/route';
import { publicUrls, sendMail } from '../../layers/mail/mailer';
import { type InvitationItem, invitationKeys, toInvitation } from '../../layers/model/invitations';
import { toUser, type UserItem } from '../../layers/model/users';
import { membersContext } from './context';
import {
  makeAcceptInvitation,
  makeChangeRole,
  makeInvite,
  makeRemoveMember,
  makeRevokeInvitation,
} from './service';

export const handler = makeContextHandler(membersContext, {
  inviteMember: async ({ params, body, principal, platform }) => {
    const invitation = await makeInvite({ ...platform, sendMail, urls: publicUrls(platform.config) })(
      params.tenantId,
      principal,
      body,
    );
    return created(toInvitation(invitation), `/v1/tenants/${params.tenantId}/invitations/${invitation.id}`);
  },
  listInvitations: async ({ params, query, platform }) =>
    listPage<InvitationItem, ReturnType<typeof toInvitation>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: invitationKeys.linkPrefix,
        scope: 'invitations',
        query,
      },
      toInvitation,
    ),
  acceptInvitation: async ({ body, platform }) => {
    const user = await makeAcceptInvitation(platform)(body);
    return created(toUser(user), `/v1/tenants/${user.tenantId}/members/${user.id}`);
  },
  listMembers: async ({ params, query, platform }) =>
    listPage<UserItem, ReturnType<typeof toUser>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: 'USER#',
        scope: 'members',
        query,
      },
      toUser,
    ),
  changeMemberRole: async ({ params, body, principal, headers, platform }) => {
    const user = await makeChangeRole(platform)(
      params.tenantId,
      principal,
      params.userId,
      body.role,
      versionFromIfMatch(headers('if-match')),
    );
    return ok(toUser(user), { ETag: etag(user.version) });
  },
  revokeInvitation: async ({ params, platform }) => {
    await makeRevokeInvitation(platform)(params.tenantId, params.invitationId);
    return { status: 204 };
  },
  removeMember: async ({ params, principal, platform }) => {
    await makeRemoveMember(platform)(params.tenantId, principal, params.userId);
    return { status: 204 };
  },
});
