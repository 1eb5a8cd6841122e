import { defineOperationKinds } from '../servers/operation-kinds';
import { settleSite } from './settle';

/**
 * The sites context's operations on a server. Each settles its site when its command ends: a
 * rendered configuration checked on the host before it is reloaded, a one-click app, a release.
 */
export const siteOperationKinds = defineOperationKinds<{ siteId: string }>()({
  'apply-site': {
    workflow: 'run-command',
    document: 'site',
    cancel: false,
    onEnd: settleSite,
    explainsFailure: true,
  },
  'remove-site': {
    workflow: 'run-command',
    document: 'site',
    cancel: false,
    onEnd: settleSite,
    explainsFailure: true,
  },
  // a one-click app into a site; the site takes what it brings
  'install-app': {
    workflow: 'run-command',
    document: 'install-app',
    cancel: false,
    onEnd: settleSite,
    explainsFailure: true,
  },
  // a release of a site from its repository, or back to a kept one
  'deploy-site': {
    workflow: 'run-command',
    document: 'deploy-site',
    cancel: false,
    onEnd: settleSite,
    explainsFailure: true,
  },
  'rollback-site': {
    workflow: 'run-command',
    document: 'deploy-site',
    cancel: false,
    onEnd: settleSite,
    explainsFailure: true,
  },
  // a site's certificate from an ACME directory (functions/sites/certificates): its own tasks settle the site
  'issue-certificate': { workflow: 'issue-certificate', cancel: false },
  // reads the end of a site's log: nothing to settle, and a cancel stops it on the host
  'site-logs': { workflow: 'run-command', document: 'site', cancel: 'command' },
});
