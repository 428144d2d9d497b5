import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = process.env['NGINX'] ?? '/usr/sbin/nginx';

export function nginxAvailability(): { run: true } | { run: false; why: string } {
  const probe = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  if (probe.status === 0) return { run: true };
  return { run: false, why: `${NGINX} not found (apt-get install nginx-light, or set NGINX)` };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * The reverse-proxy recipe of the README, for channeld's HTTP port: WebSocket upgrades passed
 * through (Upgrade/Connection), HTTP/1.1 to channeld whatever the client spoke, long read timeouts
 * for idle sockets.
 */
export function recipe(listen: string, upstreamPort: number, tempDir: string): string {
  return `
worker_processes 1;
error_log ${tempDir}/error.log warn;
pid ${tempDir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${tempDir}/body;
  proxy_temp_path ${tempDir}/proxy;
  fastcgi_temp_path ${tempDir}/fastcgi;
  uwsgi_temp_path ${tempDir}/uwsgi;
  scgi_temp_path ${tempDir}/scgi;

  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream channeld { server 127.0.0.1:${upstreamPort}; keepalive 16; }
  server {
    listen ${listen};
    # What $host becomes for an HTTP/1.0 request without a Host header (some load balancers' probes);
    # uWebSockets.js closes a request with an empty Host.
    server_name localhost;
    location / {
      proxy_pass http://channeld;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
`;
}

export interface TestNginx {
  readonly port: number;
  stop(): Promise<void>;
}

/** Runs nginx in the foreground with the recipe (or another config), in a directory of its own; resolves once it accepts connections. */
export async function startNginx(upstreamPort: number, config: typeof recipe = recipe): Promise<TestNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'channeld-nginx-'));
  mkdirSync(join(dir, 'conf'));
  const port = await freePort();
  const conf = join(dir, 'conf', 'nginx.conf');
  writeFileSync(conf, config(`127.0.0.1:${port}`, upstreamPort, dir));
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => true, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
