import { makeContextHandler } from '../../layers/http/context-handler';
import { created, ok } from '../../layers/http/route';
import { sendMail } from '../../layers/mail/mailer';
import { authKeys, toUser, type UserItem } from '../auth/entity';
import { type InvitationItem, invitationKeys, toInvitation } from './entity';
import { makeAcceptInvitation, makeInvite, makeRemoveMember } from './service';
import { memberRoutes } from './spec';

export const handler = makeContextHandler(memberRoutes, {
  inviteMember: async ({ params, body, principal, platform }) => {
    const invitation = await makeInvite({ ...platform, sendMail, appUrl: platform.config.APP_URL })(
      params.tenantId,
      principal,
      body,
    );
    return created(toInvitation(invitation), `/v1/tenants/${params.tenantId}/invitations/${invitation.id}`);
  },
  listInvitations: async ({ params, query, platform }) => {
    const page = await platform.store.query<InvitationItem>({
      pk: invitationKeys.link(params.tenantId, '').pk,
      skPrefix: invitationKeys.linkPrefix,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: 'invitations',
    });
    return ok({ items: page.items.map(toInvitation), nextCursor: page.nextCursor });
  },
  acceptInvitation: async ({ body, platform }) => {
    const user = await makeAcceptInvitation(platform)(body);
    return created(toUser(user), `/v1/tenants/${user.tenantId}/members/${user.id}`);
  },
  listMembers: async ({ params, query, platform }) => {
    const page = await platform.store.query<UserItem>({
      pk: authKeys.user(params.tenantId, '').pk,
      skPrefix: 'USER#',
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: 'members',
    });
    return ok({ items: page.items.map(toUser), nextCursor: page.nextCursor });
  },
  removeMember: async ({ params, principal, platform }) => {
    await makeRemoveMember(platform)(params.tenantId, principal, params.userId);
    return { status: 204 };
  },
});
