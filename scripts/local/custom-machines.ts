import { renderUserData } from '../../functions/servers/providers/provider';

/**
 * The local stand-in for AWS's hybrid-activation setup tool, which a custom server's install
 * command fetches and runs. As `ssm-setup-cli -register -activation-code … -activation-id …
 * -region …` it "installs the agent" on this machine: the runtime boots a sandboxed local host
 * whose agent registers with that activation, as the customer's machine would.
 */
const setupCli = (services: string) => `#!/usr/bin/env bash
# The local VIP Hosting Panel's stand-in for ssm-setup-cli: it registers a sandboxed local
# host (this machine's stand-in) with the hybrid activation given.
set -euo pipefail
code='' id='' region=''
while [ $# -gt 0 ]; do
  case "$1" in
    -register) shift ;;
    -activation-code) code="$2"; shift 2 ;;
    -activation-id) id="$2"; shift 2 ;;
    -region) region="$2"; shift 2 ;;
    *) echo "ssm-setup-cli: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$code" ] || [ -z "$id" ] || [ -z "$region" ]; then
  echo "usage: ssm-setup-cli -register -activation-code CODE -activation-id ID -region REGION" >&2
  exit 2
fi
curl -fsS -X POST '${services}/local/custom-machines' \\
  --data-urlencode "code=$code" --data-urlencode "id=$id" --data-urlencode "region=$region"
echo
`;

export function customMachineSetup(
  method: string,
  url: string,
  body: string,
  options: { services: string; boot: (userData: string) => { status: number; body?: unknown } },
): { status: number; contentType: string; body: string } | undefined {
  if (method === 'GET' && url === '/local/ssm-setup-cli') {
    return { status: 200, contentType: 'text/x-shellscript', body: setupCli(options.services) };
  }
  if (method === 'POST' && url === '/local/custom-machines') {
    const form = new URLSearchParams(body);
    const [code, id, region] = ['code', 'id', 'region'].map((name) => form.get(name) ?? '');
    // they go into the user data's shell line, as SSM's own values would: nothing else gets in
    if (![code, id, region].every((value) => /^[A-Za-z0-9+/=_-]{1,128}$/.test(value ?? ''))) {
      return { status: 400, contentType: 'text/plain', body: 'code, id and region are required' };
    }
    const booted = options.boot(renderUserData({ code: code ?? '', id: id ?? '', region: region ?? '' }));
    const host = (booted.body as { host?: { id: string } } | undefined)?.host;
    return booted.status === 201 && host
      ? {
          status: 201,
          contentType: 'text/plain',
          body: `Registering this machine (local host ${host.id}) with activation ${id}.`,
        }
      : { status: 500, contentType: 'text/plain', body: 'The local host could not be started.' };
  }
  return undefined;
}
