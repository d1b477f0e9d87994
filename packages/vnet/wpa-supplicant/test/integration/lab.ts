// TEMPORARY stand-in for @testing/netlab (not on main yet): the few pieces these tests use, with
// netlab's names and shapes, so switching is an import change. Delete once netlab has landed.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandRunner, createCommandRunner, type RunningProcess } from "@runtime/command";

let sequence = 0;

export class Namespace {
  constructor(
    readonly name: string,
    readonly owner: Lab,
  ) {}

  start(argv: readonly string[]): RunningProcess {
    const process = this.owner.runner.start(["ip", "netns", "exec", this.name, ...argv]);
    this.owner.processes.add(process);
    return process;
  }
}

export class Lab {
  readonly processes = new Set<RunningProcess>();
  private readonly namespaces: Namespace[] = [];
  private counter = 0;

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly runner: CommandRunner,
  ) {}

  static async create(name: string): Promise<Lab> {
    sequence += 1;
    const dir = await mkdtemp(join(tmpdir(), `wpslab-${process.pid}-${name}-`));
    return new Lab(
      `ws${process.pid}x${sequence}`,
      dir,
      createCommandRunner({ timeoutMs: 20_000, killGraceMs: 1_000 }),
    );
  }

  async namespace(role: string): Promise<Namespace> {
    const namespace = new Namespace(`${this.id}-${role}`, this);
    this.namespaces.push(namespace);
    await this.runner.run(["ip", "netns", "add", namespace.name]);
    await this.runner.run(["ip", "-n", namespace.name, "link", "set", "lo", "up"]);
    return namespace;
  }

  async veth(a: Namespace, aName: string, b: Namespace, bName: string): Promise<void> {
    await this.runner.run([
      "ip",
      "link",
      "add",
      "name",
      aName,
      "netns",
      a.name,
      "type",
      "veth",
      "peer",
      "name",
      bName,
      "netns",
      b.name,
    ]);
    await this.runner.run(["ip", "-n", a.name, "link", "set", aName, "up"]);
    await this.runner.run(["ip", "-n", b.name, "link", "set", bName, "up"]);
  }

  file(base: string, extension = ""): string {
    this.counter += 1;
    return join(this.dir, `${base}-${this.counter}${extension}`);
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.processes].map((process) => process.stop({ graceMs: 1_000 })));
    for (const namespace of this.namespaces) {
      await this.runner.run(["ip", "netns", "del", namespace.name], { allowFailure: true });
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; description?: string; process?: RunningProcess } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) {
      const tail = options.process?.recentOutput().slice(-10).join("\n") ?? "";
      throw new Error(`timed out waiting for ${options.description ?? "condition"}\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface TestPki {
  caCert: string;
  server: { cert: string; key: string };
  clients: Record<string, { cert: string; key: string }>;
}

export async function createTestPki(
  lab: Lab,
  options: { clients: readonly string[] },
): Promise<TestPki> {
  const dir = lab.file("pki");
  await mkdir(dir, { mode: 0o700 });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const caCert = join(dir, "ca.pem");
  const caKey = join(dir, "ca.key");
  await lab.runner.run([
    "openssl",
    "req",
    "-x509",
    ...ec,
    "-keyout",
    caKey,
    "-out",
    caCert,
    "-days",
    "2",
    "-subj",
    "/CN=test CA",
  ]);
  let serial = 1;
  const issue = async (name: string) => {
    serial += 1;
    const key = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const cert = join(dir, `${name}.pem`);
    await lab.runner.run([
      "openssl",
      "req",
      ...ec,
      "-keyout",
      key,
      "-out",
      csr,
      "-subj",
      `/CN=${name}`,
    ]);
    await lab.runner.run([
      "openssl",
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      caCert,
      "-CAkey",
      caKey,
      "-set_serial",
      String(serial),
      "-days",
      "2",
      "-out",
      cert,
    ]);
    return { cert, key };
  };
  const server = await issue("server");
  const clients: TestPki["clients"] = {};
  for (const name of options.clients) clients[name] = await issue(name);
  return { caCert, server, clients };
}

export type EapUser =
  | { identity: string; method: "PEAP"; password: string }
  | { identity: string; method: "TLS" };

export async function startHostapd(
  namespace: Namespace,
  options: { interface: string; users: readonly EapUser[]; pki: TestPki },
): Promise<RunningProcess> {
  const lab = namespace.owner;
  const users = lab.file("eap_user");
  await writeFile(
    users,
    options.users
      .flatMap((user) =>
        user.method === "TLS"
          ? [`"${user.identity}"\tTLS`]
          : [`"${user.identity}"\tPEAP`, `"${user.identity}"\tMSCHAPV2\t"${user.password}"\t[2]`],
      )
      .join("\n"),
  );
  const ctrl = lab.file("hostapd", ".ctrl");
  const config = lab.file("hostapd", ".conf");
  await writeFile(
    config,
    [
      `interface=${options.interface}`,
      "driver=wired",
      `ctrl_interface=${ctrl}`,
      "ieee8021x=1",
      "eap_server=1",
      `eap_user_file=${users}`,
      `ca_cert=${options.pki.caCert}`,
      `server_cert=${options.pki.server.cert}`,
      `private_key=${options.pki.server.key}`,
      "eap_reauth_period=0",
      "",
    ].join("\n"),
  );
  const daemon = namespace.start(["hostapd", config]);
  await waitFor(
    async () => {
      const { stdout } = await lab.runner.run(
        ["hostapd_cli", "-p", ctrl, "-i", options.interface, "status"],
        { allowFailure: true },
      );
      return stdout.includes("state=ENABLED");
    },
    { description: "hostapd ENABLED", process: daemon },
  );
  return daemon;
}
