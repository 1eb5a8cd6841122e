import { defineContext } from '../../layers/http/context';
import { sitesRoutes } from './routes';

/** Sites on servers: their domains, web server configs, PHP pools and suspension. */
export const sitesContext = defineContext({
  name: 'sites',
  routes: sitesRoutes,
  workflows: ['run-command', 'issue-certificate'],
  grants: ['site-environments'],
  // a change that ends after its tenant's suspension changed starts the one that catches up
  // certificates: the key of one issued, the platform's ACME account
  taskGrants: ['site-environments', 'start-run-command', 'site-certificates'],
  idPrefixes: ['ste', 'rel'],
});
