import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, normalize } from "node:path";
import type { ProcessExit, RunningProcess } from "@runtime/command";
import type { Namespace } from "../namespace.js";
import { OutputLog, waitFor } from "../wait.js";

export interface HttpServerOptions {
  /** Address to listen on, inside the namespace (IPv6 without brackets is fine). */
  address: string;
  port: number;
  /** Files to serve, by URL path (`{ "fw/update.bin": bytes }`), written under `root`. */
  files?: Readonly<Record<string, string | Uint8Array>>;
  /** Directory to serve. Default: a fresh directory in the lab. */
  root?: string;
  timeoutMs?: number;
}

/** nginx (nginx-light) serving static files in a namespace; Range requests work. */
export interface HttpServer {
  readonly process: RunningProcess;
  readonly log: OutputLog;
  /** `http://address:port` (IPv6 in brackets). */
  readonly url: string;
  readonly root: string;
  stop(): Promise<ProcessExit>;
}

/** Pure: an nginx.conf that keeps every path (pid, temp files, logs) inside the lab. */
export function nginxConfig(options: { listen: string; root: string; prefix: string }): string {
  const temp = (name: string) => join(options.prefix, name);
  return `daemon off;
master_process on;
worker_processes 1;
user root;
pid ${temp("nginx.pid")};
error_log stderr notice;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${temp("body")};
  proxy_temp_path ${temp("proxy")};
  fastcgi_temp_path ${temp("fastcgi")};
  uwsgi_temp_path ${temp("uwsgi")};
  scgi_temp_path ${temp("scgi")};
  types { text/html html; text/plain txt; application/json json; application/octet-stream bin; }
  default_type application/octet-stream;
  server {
    listen ${options.listen};
    root ${options.root};
  }
}
`;
}

export async function startHttpServer(
  namespace: Namespace,
  options: HttpServerOptions,
): Promise<HttpServer> {
  const prefix = namespace.owner.file("nginx");
  await mkdir(prefix, { mode: 0o700 });
  const root = options.root ?? join(prefix, "root");
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(options.files ?? {})) {
    const target = join(root, normalize(`/${path}`));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  const host = options.address.includes(":") ? `[${options.address}]` : options.address;
  const configPath = join(prefix, "nginx.conf");
  await writeFile(configPath, nginxConfig({ listen: `${host}:${options.port}`, root, prefix }));
  const daemon = namespace.start(["nginx", "-p", prefix, "-c", configPath, "-e", "stderr"]);
  const log = new OutputLog(daemon);
  await waitFor(() => namespace.isListening("tcp", options.port), {
    timeoutMs: options.timeoutMs ?? 10_000,
    description: `nginx on ${namespace.name} ${host}:${options.port}`,
    process: daemon,
  });
  return {
    process: daemon,
    log,
    url: `http://${host}:${options.port}`,
    root,
    stop: () => daemon.stop(),
  };
}
