import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { CommandRunner } from "@runtime/command";

export interface CertificateAndKey {
  cert: string;
  key: string;
}

/** A throw-away certificate authority with a server certificate and client certificates. */
export interface TestPki {
  dir: string;
  caCert: string;
  caKey: string;
  server: CertificateAndKey;
  /** By client name (the certificate's CN, used as EAP-TLS identity). */
  clients: Record<string, CertificateAndKey>;
}

export interface TestPkiOptions {
  /** Common name of the server certificate. Default "netlab-server". */
  serverName?: string;
  /** One client certificate per name (CN), e.g. for EAP-TLS users. */
  clients?: readonly string[];
  /** Validity in days. Default 2: these never outlive a test run. */
  days?: number;
}

const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Generates an ECDSA P-256 CA, server certificate and client certificates with openssl into a
 * fresh directory of the lab. P-256 keys take milliseconds, so every test can have fresh ones.
 */
export async function createTestPki(
  lab: { readonly runner: CommandRunner; file(base: string, extension?: string): string },
  options: TestPkiOptions = {},
): Promise<TestPki> {
  const runner = lab.runner;
  const dir = lab.file("pki");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const days = String(options.days ?? 2);
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const openssl = (args: string[]) => runner.run(["openssl", ...args], { cwd: dir });
  let serial = Date.now();

  const caCert = join(dir, "ca.pem");
  const caKey = join(dir, "ca.key");
  await openssl([
    "req",
    "-x509",
    ...ecKey,
    "-keyout",
    caKey,
    "-out",
    caCert,
    "-days",
    days,
    "-subj",
    "/CN=netlab test CA",
  ]);

  const issue = async (name: string, file: string): Promise<CertificateAndKey> => {
    const key = join(dir, `${file}.key`);
    const csr = join(dir, `${file}.csr`);
    const cert = join(dir, `${file}.pem`);
    await openssl(["req", ...ecKey, "-keyout", key, "-out", csr, "-subj", `/CN=${name}`]);
    serial += 1;
    await openssl([
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
      days,
      "-out",
      cert,
    ]);
    return { cert, key };
  };

  const server = await issue(options.serverName ?? "netlab-server", "server");
  const clients: Record<string, CertificateAndKey> = {};
  for (const name of options.clients ?? []) {
    if (!CLIENT_NAME.test(name))
      throw new TypeError(`client certificate name ${JSON.stringify(name)}`);
    clients[name] = await issue(name, `client-${name}`);
  }
  return { dir, caCert, caKey, server, clients };
}
