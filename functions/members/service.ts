import { randomBytes } from 'node:crypto';
import { hashToken, type Principal, type Role } from '../../layers/auth/tokens';
import { errors } from '../../layers/errors/app-error';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import { actionLines, type PublicUrls } from '../../layers/mail/mailer';
import { type Store, TransactionFailedError } from '../../layers/store/store';
import { authKeys, newUser, type TenantItem, type UserItem } from '../auth/entity';
import { serverKeys } from '../servers/entity';
import { INVITATION_TTL_SECONDS, type InvitationItem, invitationKeys } from './entity';

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
    const tenant = await deps.store.get<TenantItem>(authKeys.tenant(tenantId));
    if (!tenant) throw errors.notFound('tenant');
    const token = `vin_${randomBytes(32).toString('base64url')}`;
    const id = deps.ids.next('inv');
    const now = deps.clock.now();
    const item: InvitationItem = {
      ...invitationKeys.byToken(hashToken(token)),
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
      { Put: { Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { Item: { ...item, ...invitationKeys.link(tenantId, id), entity: 'invitation-link' } } },
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
        { Delete: { Key: key, ConditionExpression: 'attribute_exists(pk)' } },
        { Delete: { Key: invitationKeys.link(invitation.tenantId, invitation.id) } },
        { Put: { Item: user, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { Item: claim, ConditionExpression: 'attribute_not_exists(pk)' } },
        ...(invitation.role === 'owner'
          ? [
              {
                Update: {
                  Key: serverKeys.counters(invitation.tenantId),
                  UpdateExpression: 'ADD #owners :one',
                  ExpressionAttributeNames: { '#owners': 'owners' },
                  ExpressionAttributeValues: { ':one': 1 },
                },
              },
            ]
          : []),
      ]);
    } catch (error) {
      if (error instanceof TransactionFailedError) {
        if (error.reasons[0] === 'ConditionalCheckFailed') throw errors.notFound('invitation');
        if (error.reasons[3] === 'ConditionalCheckFailed') {
          throw errors.conflict('An account with this email already exists.', 'body.token');
        }
      }
      throw error;
    }
    return user;
  };
}

/** Removes a member. The last owner cannot be removed: the owner count is checked in the same transaction. */
export function makeRemoveMember(deps: Pick<MemberDeps, 'store'>) {
  return async (tenantId: string, remover: Principal, userId: string) => {
    const user = await deps.store.get<UserItem>(authKeys.user(tenantId, userId), true);
    if (!user) throw errors.notFound('member');
    if (user.role === 'owner' && remover.role !== 'owner')
      throw errors.forbidden('Only an owner can remove an owner.');
    try {
      await deps.store.transact([
        { Delete: { Key: authKeys.user(tenantId, userId), ConditionExpression: 'attribute_exists(pk)' } },
        { Delete: { Key: authKeys.email(user.email) } },
        ...(user.role === 'owner'
          ? [
              {
                Update: {
                  Key: serverKeys.counters(tenantId),
                  UpdateExpression: 'ADD #owners :minus',
                  ConditionExpression: '#owners > :one',
                  ExpressionAttributeNames: { '#owners': 'owners' },
                  ExpressionAttributeValues: { ':minus': -1, ':one': 1 },
                },
              },
            ]
          : []),
      ]);
    } catch (error) {
      if (error instanceof TransactionFailedError && error.reasons[2] === 'ConditionalCheckFailed') {
        throw errors.conflict('The last owner cannot be removed.');
      }
      if (error instanceof TransactionFailedError && error.reasons[0] === 'ConditionalCheckFailed') {
        throw errors.notFound('member');
      }
      throw error;
    }
  };
}
