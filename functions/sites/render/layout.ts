import { homeOf, type SiteItem, type SiteSpec } from '../../../layers/model/sites';

/**
 * Where one site's pieces live on a host. Every path is built here from the site's system
 * user, which the API derives from the site id, so no customer value ever names a path.
 */
export interface SiteLayout {
  siteId: string;
  user: string;
  home: string;
  docroot: string;
  logs: string;
  tmp: string;
  /**
   * The socket of the site's pool under one PHP version: each version's its own, so a switch
   * starts the new pool beside the old one, and the web server moves over only once it listens.
   */
  phpSocket: (version: string) => string;
  /** the basic-auth user file, readable by the web server only */
  htpasswd: string;
}

export function layoutOf(site: Pick<SiteItem, 'id' | 'systemUser'>): SiteLayout {
  const home = homeOf(site.systemUser);
  return {
    siteId: site.id,
    user: site.systemUser,
    home,
    docroot: `${home}/public`,
    logs: `${home}/logs`,
    tmp: `${home}/tmp`,
    phpSocket: (version: string) => `/run/php/${site.systemUser}-php${version}.sock`,
    htpasswd: `/etc/vip/htpasswd/${site.systemUser}`,
  };
}

/** What a renderer is given: the site as it should be served, and where its pieces live. */
export interface RenderInput {
  spec: SiteSpec;
  suspended: boolean;
  layout: SiteLayout;
}

/** Where the suspension page lives; the site document writes it. */
export const SUSPENDED_ROOT = '/var/www/vip-suspended';

/** The header every rendered file starts with (in the file format's comment syntax). */
export const managedHeader = (layout: SiteLayout, domain: string) =>
  `Managed by VIP Hosting Panel: site ${layout.siteId} (${domain}). Changes here are replaced.`;
