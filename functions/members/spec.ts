import * as z from 'zod';
import { roles } from '../../layers/auth/tokens';
import { route } from '../../layers/http/route';
import { userSchema } from '../auth/spec';
import {
  listOf,
  pageQuery,
  prefixedId,
  problemSchema,
  tenantParams,
  tenantRouteProblems,
} from '../shared-schemas';

export const inviteBody = z
  .strictObject({
    email: z
      .email()
      .max(254)
      .transform((v) => v.toLowerCase()),
    role: z.enum(roles),
  })
  .meta({ id: 'InviteRequest' });

export const acceptInvitationBody = z
  .strictObject({
    token: z.string().regex(/^vin_[A-Za-z0-9_-]{43}$/, 'Not an invitation token'),
    name: z.string().trim().min(1).max(120),
    password: z.string().min(12, 'At least 12 characters').max(256),
  })
  .meta({ id: 'AcceptInvitationRequest' });

export const changeRoleBody = z.strictObject({ role: z.enum(roles) }).meta({ id: 'ChangeRoleRequest' });

export const invitationSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role: z.enum(roles),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: 'Invitation' });

const problems = tenantRouteProblems('member');

export const memberRoutes = [
  route({
    operationId: 'inviteMember',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/invitations',
    context: 'members',
    auth: 'user',
    permission: 'members:write',
    summary: 'Invite someone by email; the invitation is valid 7 days',
    tags: ['members'],
    params: tenantParams,
    body: inviteBody,
    idempotent: true,
    responses: { 201: { description: 'The invitation', schema: invitationSchema }, ...problems },
  }),
  route({
    operationId: 'listInvitations',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/invitations',
    context: 'members',
    auth: 'user',
    permission: 'members:read',
    summary: 'Pending invitations',
    tags: ['members'],
    params: tenantParams,
    query: z.strictObject({ ...pageQuery }),
    responses: {
      200: { description: 'A page of invitations', schema: listOf(invitationSchema) },
      ...problems,
    },
  }),
  route({
    operationId: 'acceptInvitation',
    method: 'POST',
    path: '/v1/invitations/accept',
    context: 'members',
    auth: 'none',
    rateLimit: 'sign-in',
    summary: 'Accept an invitation with the token from the email, choosing a name and password',
    tags: ['members'],
    body: acceptInvitationBody,
    responses: {
      201: { description: 'The new member', schema: userSchema },
      400: { description: 'Invalid request', schema: problemSchema },
      404: { description: 'No such invitation, or it expired', schema: problemSchema },
      409: { description: 'The email already has an account', schema: problemSchema },
    },
  }),
  route({
    operationId: 'listMembers',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/members',
    context: 'members',
    auth: 'user',
    permission: 'members:read',
    summary: "The tenant's members",
    tags: ['members'],
    params: tenantParams,
    query: z.strictObject({ ...pageQuery }),
    responses: { 200: { description: 'A page of members', schema: listOf(userSchema) }, ...problems },
  }),
  route({
    operationId: 'changeMemberRole',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/members/{userId}',
    context: 'members',
    auth: 'user',
    permission: 'members:write',
    summary:
      "Change a member's role (only an owner makes or unmakes an owner; never the last owner); it holds at once, " +
      "for the member's sessions and API tokens alike, and the member's sessions end (they sign in again)",
    tags: ['members'],
    params: tenantParams.extend({ userId: prefixedId('usr') }),
    body: changeRoleBody,
    responses: {
      200: { description: 'The member', schema: userSchema },
      ...problems,
      409: { description: 'The last owner keeps the owner role', schema: problemSchema },
      412: { description: 'If-Match names another version', schema: problemSchema },
    },
  }),
  route({
    operationId: 'revokeInvitation',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/invitations/{invitationId}',
    context: 'members',
    auth: 'user',
    permission: 'members:write',
    summary: 'Revoke a pending invitation; its emailed token stops working',
    tags: ['members'],
    params: tenantParams.extend({ invitationId: prefixedId('inv') }),
    responses: { 204: { description: 'Revoked' }, ...problems },
  }),
  route({
    operationId: 'removeMember',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/members/{userId}',
    context: 'members',
    auth: 'user',
    permission: 'members:write',
    summary: 'Remove a member (never the last owner)',
    tags: ['members'],
    params: tenantParams.extend({ userId: prefixedId('usr') }),
    responses: {
      204: { description: 'Removed' },
      ...problems,
      409: { description: 'The last owner cannot be removed' },
    },
  }),
] as const;
