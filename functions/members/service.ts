import { randomBytes } from 'node:crypto';
import { hashToken, type Principal, type Role } from '../../layers/auth/tokens';
import { errors } from '../../layers/errors/app-error';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import { actionLines, type PublicUrls } from '../../layers/mail/mailer';
import { countersChange } from '../../layers/model/counters';
import { INVITATION_TTL_SECONDS, type InvitationItem, invitationKeys } from '../../layers/model/invitations';
import { newUser } from '../../layers/model/new-user';
import { type TenantItem, tenantKeys } from '../../layers/model/tenants';
import { type UserItem, userKeys } from '../../layers/model/users';
import { refusedBy, type Store } from '../../layers/store/store';
import { deleteItem, named, putItem, putNew, updateItem } from '../../layers/store/writes';

export interface MemberDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  sendMail: (mail: { to: string; subject: string; text: string }) => Promise<unknown>;
  urls: PublicUrls;
}

/** Invites someone by email into a tenant with a role; only an owner may invite an owner. */
export function makeInvite(deps: MemberDeps) {
  return async (tenantId: string, inviter: Principal, input: { email: string; role: Role }) => {
    if (input.role === 'owner' && inviter.role !== 'owner')
      throw errors.forbidden('Only an owner can invite an owner.');
    const tenant = await deps.store.get<TenantItem>(tenantKeys.item(tenantId));
    if (!tenant) throw errors.notFound('tenant');
    const token = `vin_${randomBytes(32).toString('base64url')}`;
    const id = deps.ids.next('inv');
    const now = deps.clock.now();
    const tokenHash = hashToken(token);
    const item: InvitationItem = {
      ...invitationKeys.byToken(tokenHash),
      tokenHash,
      entity: 'invitation',
      id,
      tenantId,
      email: input.email,
      role: input.role,
      invitedBy: inviter.userId,
      createdAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + INVITATION_TTL_SECONDS,
    };
    await deps.store.transact([
      putNew(item),
      putItem({ ...item, ...invitationKeys.link(tenantId, id), entity: 'invitation-link' }),
    ]);
    await deps.sendMail({
      to: input.email,
      subject: `You are invited to ${tenant.name} on VIP Hosting Panel`,
      text: [
        `You have been invited to join ${tenant.name} as ${input.role}.`,
        'Accept within 7 days:',
        ...actionLines(deps.urls, {
          page: 'invitations/accept',
          token,
          apiPath: '/v1/invitations/accept',
          apiBody: { name: 'Your Name', password: 'a password of 12 characters or more' },
        }),
        '',
        'If you did not expect this, ignore this email.',
      ].join('\n'),
    });
    return item;
  };
}

/** Accepts an invitation: the new member, its email claim and the invitation's removal, together. */
export function makeAcceptInvitation(deps: Pick<MemberDeps, 'store' | 'clock' | 'ids'>) {
  return async (input: { token: string; name: string; password: string }) => {
    const key = invitationKeys.byToken(hashToken(input.token));
    const invitation = await deps.store.get<InvitationItem>(key, true);
    if (!invitation) throw errors.notFound('invitation');
    const userId = deps.ids.next('usr');
    const { user, claim } = await newUser({
      tenantId: invitation.tenantId,
      userId,
      email: invitation.email,
      name: input.name,
      role: invitation.role,
      password: input.password,
      now: deps.clock.now().toISOString(),
    });
    try {
      await deps.store.transact([
        named('invitation', deleteItem(key)),
        // a revoked invitation has no link any more, and cannot be accepted
        named('invitation link', deleteItem(invitationKeys.link(invitation.tenantId, invitation.id))),
        putNew(user),
        named('email', putNew(claim)),
        ...(invitation.role === 'owner' ? [countersChange(invitation.tenantId, { owners: 1 })] : []),
      ]);
    } catch (error) {
      if (refusedBy(error, 'invitation') || refusedBy(error, 'invitation link')) {
        throw errors.notFound('invitation');
      }
      if (refusedBy(error, 'email')) {
        throw errors.conflict('An account with this email already exists.', 'body.token');
      }
      throw error;
    }
    return user;
  };
}

/** Removes a member. The last owner cannot be removed: the owner count is checked in the same transaction. */
export function makeRemoveMember(deps: Pick<MemberDeps, 'store'>) {
  return async (tenantId: string, remover: Principal, userId: string) => {
    const user = await deps.store.get<UserItem>(userKeys.item(tenantId, userId), true);
    if (!user) throw errors.notFound('member');
    if (user.role === 'owner' && remover.role !== 'owner')
      throw errors.forbidden('Only an owner can remove an owner.');
    try {
      await deps.store.transact([
        named('member', deleteItem(userKeys.item(tenantId, userId))),
        deleteItem(userKeys.email(user.email), {}),
        ...(user.role === 'owner'
          ? [named('owners', countersChange(tenantId, { owners: -1, keepAnOwner: true }))]
          : []),
      ]);
    } catch (error) {
      if (refusedBy(error, 'owners')) throw errors.conflict('The last owner cannot be removed.');
      if (refusedBy(error, 'member')) throw errors.notFound('member');
      throw error;
    }
  };
}

/**
 * Changes a member's role. Only an owner may make or unmake an owner, and the last owner keeps
 * the role: the owner count is checked in the same transaction. The member's sessions end, and
 * every request is judged by the role as it is now (layers/auth/currency.ts), API tokens' too.
 */
export function makeChangeRole(deps: Pick<MemberDeps, 'store' | 'clock'>) {
  return async (
    tenantId: string,
    changer: Principal,
    userId: string,
    role: Role,
    ifMatchVersion: number | undefined,
  ): Promise<UserItem> => {
    const key = userKeys.item(tenantId, userId);
    const user = await deps.store.get<UserItem>(key, true);
    if (!user) throw errors.notFound('member');
    if ((user.role === 'owner' || role === 'owner') && changer.role !== 'owner') {
      throw errors.forbidden('Only an owner can make or unmake an owner.');
    }
    if (user.role === role) return user;
    const ownerDelta = (role === 'owner' ? 1 : 0) - (user.role === 'owner' ? 1 : 0);
    try {
      await deps.store.transact([
        // the role it was read with, and the version the client's If-Match names
        named(
          'member',
          updateItem(
            key,
            { set: { role, sessionsValidAfter: deps.clock.now().toISOString() } },
            {
              exists: true,
              equals: {
                role: user.role,
                ...(ifMatchVersion === undefined ? {} : { version: ifMatchVersion }),
              },
            },
          ),
        ),
        ...(ownerDelta !== 0
          ? [
              named(
                'owners',
                countersChange(tenantId, {
                  owners: ownerDelta,
                  ...(ownerDelta < 0 ? { keepAnOwner: true } : {}),
                }),
              ),
            ]
          : []),
      ]);
    } catch (error) {
      if (refusedBy(error, 'member')) throw errors.preconditionFailed();
      if (refusedBy(error, 'owners'))
        throw errors.conflict('The last owner keeps the owner role.', 'body.role');
      throw error;
    }
    const updated = await deps.store.get<UserItem>(key, true);
    if (!updated) throw errors.notFound('member');
    return updated;
  };
}

/** Revokes a pending invitation: its token stops working at once. */
export function makeRevokeInvitation(deps: Pick<MemberDeps, 'store'>) {
  return async (tenantId: string, invitationId: string) => {
    const link = await deps.store.get<InvitationItem>(invitationKeys.link(tenantId, invitationId), true);
    if (!link) throw errors.notFound('invitation');
    await deps.store.transact([
      deleteItem(invitationKeys.link(tenantId, invitationId)),
      ...(link.tokenHash ? [deleteItem(invitationKeys.byToken(link.tokenHash), {})] : []),
    ]);
  };
}
