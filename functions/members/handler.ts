import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { created } from '../../layers/http/route';
import { publicUrls, sendMail } from '../../layers/mail/mailer';
import { authKeys, toUser, type UserItem } from '../auth/entity';
import { type InvitationItem, invitationKeys, toInvitation } from './entity';
import { makeAcceptInvitation, makeInvite, makeRemoveMember } from './service';
import { memberRoutes } from './spec';

export const handler = makeContextHandler(memberRoutes, {
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
        pk: invitationKeys.link(params.tenantId, '').pk,
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
        pk: authKeys.user(params.tenantId, '').pk,
        skPrefix: 'USER#',
        scope: 'members',
        query,
      },
      toUser,
    ),
  removeMember: async ({ params, principal, platform }) => {
    await makeRemoveMember(platform)(params.tenantId, principal, params.userId);
    return { status: 204 };
  },
});
