import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPasswordCost } from '../../layers/auth/passwords';
import type { Principal, Role } from '../../layers/auth/tokens';
import { type Clock, ulidIds } from '../../layers/ids/ids';
import { counterKeys } from '../../layers/model/counters';
import { type UserItem, userKeys } from '../../layers/model/users';
import type { Store, StoredItem } from '../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { refusal } from '../../test/support/refusal';
import { makeCreateTenant } from '../tenants/service';
import {
  type MemberDeps,
  makeAcceptInvitation,
  makeChangeRole,
  makeInvite,
  makeRemoveMember,
  makeRevokeInvitation,
} from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
let now = new Date('2026-12-01T09:00:00Z');
const clock: Clock = { now: () => now };
const ids = ulidIds();
const mails: { to: string; subject: string; text: string }[] = [];
let deps: MemberDeps;
const password = 'a long enough password';

beforeAll(async () => {
  setPasswordCost(12);
  ({ dynamo, store } = await startTestStore(clock));
  deps = {
    store,
    clock,
    ids,
    sendMail: async (mail) => mails.push(mail),
    urls: { apiUrl: 'https://api.example.test' },
  };
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A new tenant with its owner, as signing up makes them. */
async function tenant(email: string) {
  const { tenant, user } = await makeCreateTenant({ store, clock, ids })({
    name: email,
    kind: 'customer',
    owner: { email, name: 'Owner', password },
  });
  const owner: Principal = { tenantId: tenant.id, userId: user.id, role: 'owner' };
  return { tenantId: tenant.id, owner };
}

/** The invitation token in the last mail to an address, as its recipient reads it. */
const tokenMailedTo = (email: string) => {
  const token = /(vin_[A-Za-z0-9_-]{43})/.exec(mails.filter((m) => m.to === email).at(-1)?.text ?? '')?.[1];
  if (!token) throw new Error(`no invitation mailed to ${email}`);
  return token;
};

/** Invites and accepts: the new member as a principal. */
async function join(tenantId: string, inviter: Principal, email: string, role: Role): Promise<Principal> {
  await makeInvite(deps)(tenantId, inviter, { email, role });
  const user = await makeAcceptInvitation(deps)({ token: tokenMailedTo(email), name: 'Member', password });
  return { tenantId, userId: user.id, role: user.role };
}

const owners = async (tenantId: string) =>
  (await store.get<StoredItem & { owners?: number }>(counterKeys.item(tenantId), true))?.owners;

describe('Service: members and invitations', () => {
  it('mails an invitation whose token makes a member with the invited role, once', async () => {
    const { tenantId, owner } = await tenant('owner-1@example.com');
    const invitation = await makeInvite(deps)(tenantId, owner, { email: 'ada@example.com', role: 'admin' });
    expect(invitation).toMatchObject({
      tenantId,
      email: 'ada@example.com',
      role: 'admin',
      invitedBy: owner.userId,
    });
    const mail = mails.at(-1);
    expect(mail?.to).toBe('ada@example.com');
    expect(mail?.text).toContain('POST https://api.example.test/v1/invitations/accept');

    const token = tokenMailedTo('ada@example.com');
    const user = await makeAcceptInvitation(deps)({ token, name: 'Ada', password });
    expect(user).toMatchObject({ tenantId, email: 'ada@example.com', role: 'admin', name: 'Ada' });
    expect(await store.get<UserItem>(userKeys.item(tenantId, user.id), true)).toBeDefined();
    expect(await refusal(makeAcceptInvitation(deps)({ token, name: 'Again', password }))).toMatchObject({
      status: 404,
      path: undefined,
    });
  });

  it('lets only an owner invite an owner, and counts an owner who joins', async () => {
    const { tenantId, owner } = await tenant('owner-2@example.com');
    const admin = await join(tenantId, owner, 'admin-2@example.com', 'admin');
    expect(
      (await refusal(makeInvite(deps)(tenantId, admin, { email: 'x@example.com', role: 'owner' }))).status,
    ).toBe(403);
    expect(await owners(tenantId)).toBe(1);
    await join(tenantId, owner, 'second-owner-2@example.com', 'owner');
    expect(await owners(tenantId)).toBe(2);
  });

  it('refuses an invitation for an email that already has an account, naming the token', async () => {
    const { tenantId, owner } = await tenant('owner-3@example.com');
    await tenant('taken-3@example.com');
    await makeInvite(deps)(tenantId, owner, { email: 'taken-3@example.com', role: 'developer' });
    expect(
      await refusal(
        makeAcceptInvitation(deps)({ token: tokenMailedTo('taken-3@example.com'), name: 'T', password }),
      ),
    ).toMatchObject({ status: 409, path: 'body.token' });
  });

  it('revokes a pending invitation, whose token then makes nobody', async () => {
    const { tenantId, owner } = await tenant('owner-4@example.com');
    const invitation = await makeInvite(deps)(tenantId, owner, {
      email: 'late-4@example.com',
      role: 'developer',
    });
    await makeRevokeInvitation(deps)(tenantId, invitation.id);
    expect(
      (
        await refusal(
          makeAcceptInvitation(deps)({ token: tokenMailedTo('late-4@example.com'), name: 'L', password }),
        )
      ).status,
    ).toBe(404);
    expect((await refusal(makeRevokeInvitation(deps)(tenantId, invitation.id))).status).toBe(404);
  });

  it('never removes the last owner, and lets only an owner remove an owner', async () => {
    const { tenantId, owner } = await tenant('owner-5@example.com');
    const admin = await join(tenantId, owner, 'admin-5@example.com', 'admin');
    expect((await refusal(makeRemoveMember(deps)(tenantId, owner, owner.userId))).status).toBe(409);
    expect((await refusal(makeRemoveMember(deps)(tenantId, admin, owner.userId))).status).toBe(403);
    const second = await join(tenantId, owner, 'second-5@example.com', 'owner');
    await makeRemoveMember(deps)(tenantId, second, owner.userId);
    expect(await store.get(userKeys.item(tenantId, owner.userId), true)).toBeUndefined();
    expect(await store.get(userKeys.email('owner-5@example.com'), true)).toBeUndefined();
    expect(await owners(tenantId)).toBe(1);
    expect((await refusal(makeRemoveMember(deps)(tenantId, second, owner.userId))).status).toBe(404);
    // the last owner is the second one now
    expect((await refusal(makeRemoveMember(deps)(tenantId, second, second.userId))).status).toBe(409);
  });

  it("changes a role under the owner rules, ends the member's sessions, and keeps the last owner", async () => {
    const { tenantId, owner } = await tenant('owner-6@example.com');
    const dev = await join(tenantId, owner, 'dev-6@example.com', 'developer');
    now = new Date(now.getTime() + 60_000);
    const promoted = await makeChangeRole(deps)(tenantId, owner, dev.userId, 'admin', undefined);
    expect(promoted).toMatchObject({ role: 'admin', sessionsValidAfter: now.toISOString() });
    const admin: Principal = { ...dev, role: 'admin' };
    // an admin neither makes nor unmakes an owner
    expect(
      (await refusal(makeChangeRole(deps)(tenantId, admin, dev.userId, 'owner', undefined))).status,
    ).toBe(403);
    expect(
      (await refusal(makeChangeRole(deps)(tenantId, admin, owner.userId, 'admin', undefined))).status,
    ).toBe(403);
    // a stale version is refused; the current one is taken
    expect(
      (
        await refusal(
          makeChangeRole(deps)(tenantId, owner, dev.userId, 'developer', (promoted.version ?? 1) - 1),
        )
      ).status,
    ).toBe(412);
    await makeChangeRole(deps)(tenantId, owner, dev.userId, 'developer', promoted.version);
    expect(
      await refusal(makeChangeRole(deps)(tenantId, owner, owner.userId, 'admin', undefined)),
    ).toMatchObject({
      status: 409,
      path: 'body.role',
    });
    // made an owner, the member lets the first one step down
    await makeChangeRole(deps)(tenantId, owner, dev.userId, 'owner', undefined);
    expect(await owners(tenantId)).toBe(2);
    expect((await makeChangeRole(deps)(tenantId, owner, owner.userId, 'admin', undefined)).role).toBe(
      'admin',
    );
    expect(await owners(tenantId)).toBe(1);
    expect(
      (await refusal(makeChangeRole(deps)(tenantId, owner, 'usr_nobody', 'admin', undefined))).status,
    ).toBe(404);
  });
});
