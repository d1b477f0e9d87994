// A real nginx (Debian nginx-light) on 127.0.0.1 for integration tests and benchmarks: its own
// config, pid, logs and temp files in a fresh directory, a port the OS handed out, started in the
// foreground through @runtime/command so it dies with the test. Never the system nginx, never
// port 80. (Inside network namespaces, @testing/netlab's startHttpServer is the tool instead.)
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandRunner, createCommandRunner, type RunningProcess } from "@runtime/command";

export interface Nginx {
  readonly port: number;
  /** Directory served at `/`. */
  readonly root: string;
  readonly process: RunningProcess;
  url(path: string): string;
  /** Access log entries: status, the Range header and body bytes sent, oldest first. */
  accessLog(): Promise<Array<{ status: number; range: string; bytes: number; path: string }>>;
  stop(): Promise<void>;
}

export interface NginxOptions {
  runner?: CommandRunner;
  /** Parent of the nginx directory. Default: the OS temp dir. */
  tmpRoot?: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port from the OS");
  return address.port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Pure: an nginx.conf that keeps every path inside `prefix` and logs what the tests assert. */
export function nginxConfig(options: {
  port: number;
  root: string;
  prefix: string;
  asRoot: boolean;
}) {
  const path = (name: string) => join(options.prefix, name);
  return `worker_processes 1;
${options.asRoot ? "user root;" : ""}
pid ${path("nginx.pid")};
error_log stderr notice;
events { worker_connections 256; }
http {
  log_format ranges '$status "$http_range" $body_bytes_sent $uri';
  access_log ${path("access.log")} ranges;
  client_body_temp_path ${path("body")};
  proxy_temp_path ${path("proxy")};
  fastcgi_temp_path ${path("fastcgi")};
  uwsgi_temp_path ${path("uwsgi")};
  scgi_temp_path ${path("scgi")};
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 30s;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${options.port};
    root ${options.root};
  }
}
`;
}

/** Starts nginx on a free loopback port; retries with another port if one was taken meanwhile. */
export async function startNginx(options: NginxOptions = {}): Promise<Nginx> {
  const runner = options.runner ?? createCommandRunner();
  const prefix = await mkdtemp(join(options.tmpRoot ?? tmpdir(), "downloader-nginx-"));
  const root = join(prefix, "root");
  await mkdir(root);
  // Workers may run as another user: let them reach the served files.
  await chmod(prefix, 0o755);
  await chmod(root, 0o755);
  const asRoot = process.getuid?.() === 0;
  const { writeFile } = await import("node:fs/promises");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configPath = join(prefix, "nginx.conf");
    await writeFile(configPath, nginxConfig({ port, root, prefix, asRoot }));
    const daemon = runner.start([
      "nginx",
      "-p",
      `${prefix}/`,
      "-c",
      configPath,
      "-e",
      "stderr",
      "-g",
      "daemon off;",
    ]);
    const pidPath = join(prefix, "nginx.pid");
    let exited = false;
    void daemon.exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      // The master writes its pid file after binding the listening socket: a pid file with our
      // process's pid means *our* nginx holds the port.
      const pid = await readFile(pidPath, "utf8").catch(() => "");
      if (Number(pid.trim()) === daemon.pid && (await canConnect(port))) {
        ready = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (ready) {
      return {
        port,
        root,
        process: daemon,
        url: (path: string) => `http://127.0.0.1:${port}${path}`,
        async accessLog() {
          const text = await readFile(join(prefix, "access.log"), "utf8").catch(() => "");
          return text
            .split("\n")
            .filter(Boolean)
            .map((line) => {
              const match = /^(\d+) "([^"]*)" (\d+) (\S+)$/.exec(line);
              if (!match) throw new Error(`unexpected access log line: ${line}`);
              return {
                status: Number(match[1]),
                range: match[2] ?? "",
                bytes: Number(match[3]),
                path: match[4] ?? "",
              };
            });
        },
        async stop() {
          await daemon.stop();
          await rm(prefix, { recursive: true, force: true });
        },
      };
    }
    await daemon.stop();
    const output = daemon.recentOutput().join("\n");
    if (attempt < 5 && /Address already in use/.test(output)) continue;
    await rm(prefix, { recursive: true, force: true });
    throw new Error(`nginx did not start on 127.0.0.1:${port}:\n${output}`);
  }
}
