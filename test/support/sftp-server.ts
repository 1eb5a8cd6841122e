import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const USER = 'vipsftp';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A real SFTP server for tests: Debian's OpenSSH sshd on loopback, with a user of its own that
 * signs in by password and may only speak SFTP, and a folder it owns for backups. Needs root.
 */
export async function startSftpServer() {
  // in the system's temporary folder, which the server's user may pass through
  const dir = mkdtempSync(join(tmpdir(), 'vip-sftp-'));
  chmodSync(dir, 0o755);
  const folder = join(dir, 'backups');
  mkdirSync(folder);
  try {
    execFileSync('id', [USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  }
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  execFileSync('chpasswd', { input: `${USER}:${password}\n` });
  const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
  chownSync(folder, uid, -1);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  const fingerprint = execFileSync('ssh-keygen', ['-lf', join(dir, 'host_key.pub'), '-E', 'sha256'], {
    encoding: 'utf8',
  }).split(' ')[1];
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      `AllowUsers ${USER}`,
      'Subsystem sftp internal-sftp',
      'ForceCommand internal-sftp',
      'StrictModes no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // sshd's privilege separation needs its empty folder
  mkdirSync('/run/sshd', { recursive: true });
  const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let said = '';
  sshd.stderr?.on('data', (chunk: Buffer) => {
    said += chunk.toString();
  });
  for (let i = 0; i < 100 && !(await accepts(port)); i += 1) await new Promise((r) => setTimeout(r, 50));
  if (!(await accepts(port))) throw new Error(`sshd did not start: ${said}`);
  return {
    host: '127.0.0.1',
    port,
    username: USER,
    password,
    /** the folder backups go under, as the server's absolute path */
    path: folder,
    /** the host key as ssh-keygen -lf shows it, without SHA256: */
    hostKeySha256: `${fingerprint?.replace(/^SHA256:/, '')}=`,
    read: (path: string) => readFileSync(join(folder, path)),
    async stop() {
      sshd.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
