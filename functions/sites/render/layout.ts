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
  /** the site's certificate (with its chain) and private key, once it has one */
  tls: { certificate: string; key: string };
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
    tls: {
      certificate: `/etc/vip/tls/${site.systemUser}/fullchain.pem`,
      key: `/etc/vip/tls/${site.systemUser}/privkey.pem`,
    },
  };
}

/** What a renderer is given: the site as it should be served, and where its pieces live. */
export interface RenderInput {
  spec: SiteSpec;
  suspended: boolean;
  layout: SiteLayout;
  /** the site has a certificate on its host (at `layout.tls`): it is served over HTTPS too */
  tls?: boolean;
}

/**
 * Where every site answers ACME's HTTP-01 challenges from (`/.well-known/acme-challenge/<token>`),
 * over plain HTTP, whatever the site's redirects, basic auth or suspension: the certificate
 * workflow writes each token's file here and removes it once the order is done.
 */
export const ACME_CHALLENGE_ROOT = '/var/www/vip-acme-challenge';

/** The `Strict-Transport-Security` value a site with HSTS sends (one year). */
export const HSTS_VALUE = 'max-age=31536000';

/** Where the suspension page lives; the site document writes it. */
export const SUSPENDED_ROOT = '/var/www/vip-suspended';

/** The header every rendered file starts with (in the file format's comment syntax). */
export const managedHeader = (layout: SiteLayout, domain: string) =>
  `Managed by VIP Hosting Panel: site ${layout.siteId} (${domain}). Changes here are replaced.`;
