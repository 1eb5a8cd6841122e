import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/api';
import { can, type Permission, permissionMatrix } from './permissions';
import { roles } from './tokens';

describe('Module: permission matrix', () => {
  it('is exactly the table in docs/permissions.md', () => {
    const rows = readFileSync(new URL('../../docs/permissions.md', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => /^\|\s*[a-z-]+:[a-z-]+\s*\|/.test(line))
      .map((line) =>
        line
          .split('|')
          .map((cell) => cell.trim())
          .slice(1, -1),
      );
    const header = ['owner', 'admin', 'developer', 'billing', 'read-only'];
    expect(header.sort()).toEqual([...roles].sort());
    const documented = Object.fromEntries(
      rows.map(([permission, ...cells]) => [
        permission,
        ['owner', 'admin', 'developer', 'billing', 'read-only'].filter((_, i) => cells[i] === 'yes'),
      ]),
    );
    expect(documented).toEqual(
      Object.fromEntries(Object.entries(permissionMatrix).map(([p, r]) => [p, [...r]])),
    );
  });

  it('names a permission on every user route, and only known ones', () => {
    for (const route of routes.filter((r) => r.auth === 'user')) {
      expect(route.permission, route.operationId).toBeDefined();
      expect(Object.keys(permissionMatrix)).toContain(route.permission);
    }
  });

  it('lets the owner do everything and read-only write nothing but its own sign-in settings', () => {
    for (const permission of Object.keys(permissionMatrix) as Permission[]) {
      expect(can('owner', permission)).toBe(true);
      if (permission.endsWith(':write') && permission !== 'account:write')
        expect(can('read-only', permission)).toBe(false);
    }
  });
});
