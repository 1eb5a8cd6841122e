import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SHIM = join(here, 'host-shim.sh');
const SANDBOX_ENTER = join(here, 'sandbox-enter.sh');

export interface CommandOutcome {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * A throw-away host sandbox, as a local host's (sandbox-enter.sh and the host shim), for
 * checking rendered configs with the real validators: packages "installed" lay down Debian's
 * own default files, site users exist in the sandbox's passwd, and every command runs in the
 * sandbox's mount namespace, so configs name the real paths (/etc/nginx, /home/<user>).
 */
export function makeSandbox(options: { httpPort?: number; httpsPort?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vip-sandbox-'));
  const root = join(dir, 'root');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(root, { recursive: true });
  copyFileSync(SHIM, join(dir, 'bin', 'vip-host'));
  chmodSync(join(dir, 'bin', 'vip-host'), 0o755);
  const port = options.httpPort ?? 8080;
  const tlsPort = options.httpsPort ?? 8443;
  const env = {
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    LANG: 'C.UTF-8',
    VIP_HOST_ROOT: root,
    VIP_SANDBOXED: '1',
    VIP_HTTP_ADDRESS: '127.0.0.1',
    VIP_HTTP_PORT: String(port),
    VIP_HTTPS_PORT: String(tlsPort),
  };

  /** Runs a command inside the sandbox's namespace. */
  function run(command: string[]): CommandOutcome {
    const result = spawnSync('unshare', ['-m', '--propagation', 'private', SANDBOX_ENTER, root, ...command], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return {
      status: result.status ?? -1,
      stdout: result.stdout ?? '',
      stderr: `${result.stderr ?? ''}${result.error ? `${result.error.message}\n` : ''}${result.signal ? `killed by ${result.signal}\n` : ''}`,
    };
  }

  const shell = (script: string) => run(['bash', '-c', script]);

  /** Writes a file at its path on the host (relative to the sandbox's root). */
  function write(path: string, content: string) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }

  return {
    root,
    run,
    shell,
    write,
    /**
     * Installs what a server with this web server and PHP versions has, with the listen
     * configuration the bootstrap writes for it.
     */
    install(webServer: 'nginx' | 'apache' | 'caddy', phpVersions: string[] = []) {
      const packages = [
        webServer === 'apache' ? 'apache2' : webServer,
        ...phpVersions.map((version) => `php${version}-fpm`),
      ];
      const installed = run(['vip-host', 'install', ...packages]);
      if (installed.status !== 0)
        throw new Error(`install failed (${installed.status}): ${installed.stdout}${installed.stderr}`);
      if (webServer === 'nginx') {
        write('etc/nginx/vip/listen-http.conf', `listen 127.0.0.1:${port};\n`);
        write('etc/nginx/vip/listen-https.conf', `listen 127.0.0.1:${tlsPort} ssl;\n`);
      }
      if (webServer === 'apache') {
        write('etc/apache2/ports.conf', `Listen 127.0.0.1:${port}\nListen 127.0.0.1:${tlsPort}\n`);
        write(
          'etc/apache2/conf-enabled/vip-port.conf',
          `Define VIP_HTTP_PORT ${port}\nDefine VIP_HTTPS_PORT ${tlsPort}\n`,
        );
        const modules = run(['vip-host', 'enable-apache-modules', 'ssl', 'headers', 'rewrite']);
        if (modules.status !== 0) throw new Error(`a2enmod failed: ${modules.stderr}`);
      }
      if (webServer === 'caddy') {
        write(
          'etc/caddy/Caddyfile',
          `{\n\thttp_port ${port}\n\thttps_port ${tlsPort}\n\tauto_https disable_certs\n\tadmin unix//var/lib/caddy/admin.sock\n}\nimport /etc/caddy/sites/*.caddy\n`,
        );
      }
    },
    /** Sites' system users and homes, as the site document makes them (users are `s` and 26 of [0-9a-z]). */
    addSiteUsers(users: string[]) {
      const script = users
        .filter((user) => /^s[0-9a-z]{26}$/.test(user))
        .map(
          (user) =>
            `vip-host add-user ${user} /home/${user} && install -d -m 0750 /home/${user} /home/${user}/public /home/${user}/logs /home/${user}/tmp`,
        )
        .join('\n');
      const made = shell(`set -e\n${script}`);
      if (made.status !== 0) throw new Error(`add-user failed: ${made.stderr}`);
    },
    validate: (unit: string) => run(['vip-host', 'validate', unit]),
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Sandbox = ReturnType<typeof makeSandbox>;
