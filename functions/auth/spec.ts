import * as z from 'zod';
import { route } from '../../layers/http/route';
import { tenantKinds } from '../../layers/model/tenants';
import { isoTimestamp, problemSchema, tenantParams } from '../shared-schemas';

const email = z
  .email()
  .max(254)
  .transform((v) => v.toLowerCase());
const password = z.string().min(12, 'At least 12 characters').max(256);

export const signupBody = z
  .strictObject({
    email,
    password,
    name: z.string().trim().min(1).max(120),
    tenantName: z.string().trim().min(1).max(120),
    /** a reseller runs customers of its own through the same API */
    kind: z.enum(tenantKinds).default('customer'),
  })
  .meta({ id: 'SignupRequest' });

export const loginBody = z
  .strictObject({
    email,
    password: z.string().min(1).max(256),
    /** the authenticator code, or a recovery code, for accounts with two-factor authentication */
    otp: z.string().trim().min(6).max(32).optional(),
  })
  .meta({ id: 'LoginRequest' });

export const totpCodeBody = z
  .strictObject({ code: z.string().trim().min(6).max(32) })
  .meta({ id: 'TotpCodeRequest' });

export const passwordResetBody = z.strictObject({ email }).meta({ id: 'PasswordResetRequest' });

export const passwordResetConfirmBody = z
  .strictObject({ token: z.string().regex(/^vpr_[A-Za-z0-9_-]{43}$/, 'Not a reset token'), password })
  .meta({ id: 'PasswordResetConfirmRequest' });

export const changePasswordBody = z
  .strictObject({ currentPassword: z.string().min(1).max(256), newPassword: password })
  .meta({ id: 'ChangePasswordRequest' });

export const refreshBody = z
  .strictObject({ refreshToken: z.string().min(1).max(200) })
  .meta({ id: 'RefreshRequest' });

export const tenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(tenantKinds),
    status: z.enum(['active', 'suspended', 'deleting']),
    parentId: z.string().nullable(),
    suspension: z.object({ reason: z.string(), at: z.string(), by: z.string() }).nullable(),
    requireTwoFactor: z.boolean().meta({ description: 'its users must sign in with a second factor' }),
    createdAt: isoTimestamp,
  })
  .meta({ id: 'Tenant' });

export const updateTenantBody = z
  .strictObject({
    name: z.string().trim().min(1).max(120).optional(),
    requireTwoFactor: z
      .boolean()
      .optional()
      .meta({ description: 'when true, a user who signed in without a second factor may only enroll one' }),
  })
  .refine((body) => body.name !== undefined || body.requireTwoFactor !== undefined, {
    message: 'Give name or requireTwoFactor',
    path: ['name'],
  })
  .meta({ id: 'UpdateTenantRequest' });

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.string(),
    twoFactorEnabled: z.boolean(),
    createdAt: isoTimestamp,
  })
  .meta({ id: 'User' });

export const tokensSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    expiresIn: z.number().int(),
    refreshToken: z.string(),
    tenantId: z.string(),
    userId: z.string(),
  })
  .meta({ id: 'Tokens' });

const problem = (description: string) => ({ description, schema: problemSchema });

export const authRoutes = [
  route({
    operationId: 'signup',
    method: 'POST',
    path: '/v1/auth/signup',
    context: 'auth',
    auth: 'none',
    rateLimit: 'sign-in',
    summary: 'Create a tenant and its owner',
    tags: ['auth'],
    body: signupBody,
    responses: {
      201: {
        description: 'Tenant and owner created',
        schema: z.object({ tenant: tenantSchema, user: userSchema }),
      },
      400: problem('Invalid request'),
      409: problem('The email is already registered'),
    },
  }),
  route({
    operationId: 'login',
    method: 'POST',
    path: '/v1/auth/login',
    context: 'auth',
    auth: 'none',
    rateLimit: 'sign-in',
    summary: 'Exchange email and password for an access token and a refresh token',
    tags: ['auth'],
    body: loginBody,
    responses: {
      200: { description: 'Tokens', schema: tokensSchema },
      400: problem('Invalid request'),
      401: problem('Wrong email or password'),
    },
  }),
  route({
    operationId: 'refresh',
    method: 'POST',
    path: '/v1/auth/refresh',
    context: 'auth',
    auth: 'none',
    rateLimit: 'sign-in',
    summary: 'Exchange a refresh token (used once) for new tokens',
    tags: ['auth'],
    body: refreshBody,
    responses: {
      200: { description: 'Tokens', schema: tokensSchema },
      400: problem('Invalid request'),
      401: problem('Invalid refresh token'),
    },
  }),
  route({
    operationId: 'logout',
    method: 'POST',
    path: '/v1/auth/logout',
    context: 'auth',
    auth: 'none',
    rateLimit: 'sign-in',
    summary: "End a session: revokes the refresh token's whole family",
    tags: ['auth'],
    body: refreshBody,
    responses: { 204: { description: 'Logged out' }, 400: problem('Invalid request') },
  }),
  route({
    operationId: 'startTotpEnrollment',
    method: 'POST',
    path: '/v1/auth/2fa/totp',
    context: 'auth',
    auth: 'user',
    permission: 'account:write',
    summary: 'Start two-factor enrollment: a new TOTP secret and its otpauth URI',
    tags: ['auth'],
    responses: {
      200: {
        description: 'Scan the URI, then confirm with a code',
        schema: z.object({ secret: z.string(), otpauthUri: z.string() }),
      },
      401: problem('Missing or invalid token'),
      409: problem('Two-factor authentication is already on'),
    },
  }),
  route({
    operationId: 'confirmTotpEnrollment',
    method: 'POST',
    path: '/v1/auth/2fa/totp/confirm',
    context: 'auth',
    auth: 'user',
    permission: 'account:write',
    summary: 'Turn two-factor authentication on with a first code; answers the recovery codes, once',
    tags: ['auth'],
    body: totpCodeBody,
    responses: {
      200: {
        description: 'Two-factor authentication is on',
        schema: z.object({ recoveryCodes: z.array(z.string()) }),
      },
      400: problem('Invalid code'),
      401: problem('Missing or invalid token'),
      409: problem('No enrollment was started'),
    },
  }),
  route({
    operationId: 'disableTotp',
    method: 'POST',
    path: '/v1/auth/2fa/totp/disable',
    context: 'auth',
    auth: 'user',
    permission: 'account:write',
    summary: 'Turn two-factor authentication off, with a current code or a recovery code',
    tags: ['auth'],
    body: totpCodeBody,
    responses: {
      204: { description: 'Off' },
      400: problem('Invalid code'),
      401: problem('Missing or invalid token'),
    },
  }),
  route({
    operationId: 'requestPasswordReset',
    method: 'POST',
    path: '/v1/auth/password-reset',
    context: 'auth',
    auth: 'none',
    rateLimit: 'sign-in',
    summary: 'Email a one-hour reset link; the answer is the same whether the email is known or not',
    tags: ['auth'],
    body: passwordResetBody,
    responses: {
      202: { description: 'If the email is known, a reset link is on its way' },
      400: problem('Invalid request'),
    },
  }),
  route({
    operationId: 'confirmPasswordReset',
    method: 'POST',
    path: '/v1/auth/password-reset/confirm',
    context: 'auth',
    auth: 'none',
    rateLimit: 'sign-in',
    summary: 'Set a new password with the emailed token; every session ends',
    tags: ['auth'],
    body: passwordResetConfirmBody,
    responses: { 204: { description: 'Password changed' }, 400: problem('Invalid or expired token') },
  }),
  route({
    operationId: 'changePassword',
    method: 'POST',
    path: '/v1/auth/password',
    context: 'auth',
    auth: 'user',
    permission: 'account:write',
    summary: 'Change one’s password; other sessions end and this one gets new tokens',
    tags: ['auth'],
    body: changePasswordBody,
    responses: {
      200: { description: 'New tokens', schema: tokensSchema },
      400: problem('Invalid request or wrong current password'),
      401: problem('Missing or invalid token'),
    },
  }),
  route({
    operationId: 'getTenant',
    method: 'GET',
    path: '/v1/tenants/{tenantId}',
    context: 'auth',
    auth: 'user',
    permission: 'tenant:read',
    summary: 'Get a tenant',
    tags: ['tenants'],
    params: tenantParams,
    responses: {
      200: { description: 'The tenant', schema: tenantSchema },
      401: problem('Missing or invalid token'),
      404: problem('No such tenant'),
    },
  }),
  route({
    operationId: 'updateTenant',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}',
    context: 'auth',
    auth: 'user',
    permission: 'tenant:write',
    summary:
      'Rename a tenant or require two-factor authentication of its users (If-Match makes it conditional on the ETag)',
    tags: ['tenants'],
    params: tenantParams,
    body: updateTenantBody,
    responses: {
      200: { description: 'The tenant', schema: tenantSchema },
      400: problem('Invalid request'),
      401: problem('Missing or invalid token'),
      403: problem('Not allowed for this role'),
      404: problem('No such tenant'),
      412: problem('If-Match does not match the current ETag'),
    },
  }),
] as const;
