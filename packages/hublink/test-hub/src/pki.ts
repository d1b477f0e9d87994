// Test certificates made with the real `openssl` command: a CA for the hub's server certificate,
// a signer CA registered with the hub (like a NervesHub "signer certificate"), and device
// certificates whose common name is the device identifier, all EC P-256 (what NervesKey uses).
// Node can verify certificates but not issue them, hence openssl.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CommandRunner, createCommandRunner } from "@runtime/command";
import { ValidationError } from "@runtime/errors";

export interface PemPair {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (unencrypted: test material only). */
  key: string;
  certPath: string;
  keyPath: string;
}

export interface TestPki {
  directory: string;
  /** Issues the hub's server certificate; give its `cert` to clients as the CA to trust. */
  serverCa: PemPair;
  /** The hub's server certificate (SAN: the hostnames and addresses asked for). */
  server: PemPair;
  /** The device signer CA; register it with `hub.addSigner({ certificate: pki.signer.cert })`. */
  signer: PemPair;
  /** Device certificates by identifier (CN = identifier), issued by `signer`. */
  devices: Record<string, PemPair>;
  /** Issues one more device certificate (by `signer`, or self-signed). */
  issueDevice(
    identifier: string,
    options?: { selfSigned?: boolean; name?: string },
  ): Promise<PemPair>;
}

export interface CreateTestPkiOptions {
  /** Where the files go (created if missing). */
  directory: string;
  /** Identifiers to issue device certificates for. */
  devices?: string[];
  /** Server certificate names. Default `localhost`, `127.0.0.1`, `::1`. */
  hostnames?: string[];
  /** Validity of issued certificates, days. Default 365. */
  days?: number;
  /** Runs `openssl` (default: a runner from `@runtime/command`). */
  runner?: CommandRunner;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*)$/;
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

/** Creates a CA, a server certificate, a signer CA and device certificates with openssl. */
export async function createTestPki(options: CreateTestPkiOptions): Promise<TestPki> {
  const runner = options.runner ?? createCommandRunner({ timeoutMs: 30_000 });
  const directory = options.directory;
  const days = String(options.days ?? 365);
  await mkdir(directory, { recursive: true });
  let serial = 1000;

  const file = (name: string) => join(directory, name);
  const read = async (name: string): Promise<PemPair> => ({
    cert: await readFile(file(`${name}.pem`), "utf8"),
    key: await readFile(file(`${name}-key.pem`), "utf8"),
    certPath: file(`${name}.pem`),
    keyPath: file(`${name}-key.pem`),
  });
  const newKeyArgs = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

  const makeCa = async (name: string, commonName: string) => {
    await runner.run([
      "openssl",
      "req",
      "-x509",
      "-new",
      ...newKeyArgs,
      "-keyout",
      file(`${name}-key.pem`),
      "-out",
      file(`${name}.pem`),
      "-days",
      "3650",
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-addext",
      "subjectKeyIdentifier=hash",
    ]);
    return read(name);
  };

  const issue = async (
    name: string,
    commonName: string,
    extensions: string,
    issuer: string | undefined,
  ): Promise<PemPair> => {
    await writeFile(file(`${name}.ext`), extensions);
    if (issuer === undefined) {
      await runner.run([
        "openssl",
        "req",
        "-x509",
        "-new",
        ...newKeyArgs,
        "-keyout",
        file(`${name}-key.pem`),
        "-out",
        file(`${name}.pem`),
        "-days",
        days,
        "-subj",
        `/CN=${commonName}`,
      ]);
      return read(name);
    }
    await runner.run([
      "openssl",
      "req",
      "-new",
      ...newKeyArgs,
      "-keyout",
      file(`${name}-key.pem`),
      "-out",
      file(`${name}.csr`),
      "-subj",
      `/CN=${commonName}`,
    ]);
    await runner.run([
      "openssl",
      "x509",
      "-req",
      "-in",
      file(`${name}.csr`),
      "-CA",
      file(`${issuer}.pem`),
      "-CAkey",
      file(`${issuer}-key.pem`),
      "-set_serial",
      String(serial++),
      "-days",
      days,
      "-extfile",
      file(`${name}.ext`),
      "-out",
      file(`${name}.pem`),
    ]);
    return read(name);
  };

  const serverCa = await makeCa("server-ca", "test-hub server CA");
  const hostnames = options.hostnames ?? ["localhost", "127.0.0.1", "::1"];
  const san = hostnames.map((name) => (IP.test(name) ? `IP:${name}` : `DNS:${name}`)).join(",");
  const server = await issue(
    "server",
    hostnames[0] ?? "localhost",
    [
      `subjectAltName=${san}`,
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "authorityKeyIdentifier=keyid",
      "",
    ].join("\n"),
    "server-ca",
  );
  const signer = await makeCa("signer", "test-hub device signer");
  const deviceExtensions = [
    "basicConstraints=CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=clientAuth",
    "authorityKeyIdentifier=keyid",
    "",
  ].join("\n");

  const devices: Record<string, PemPair> = {};
  const issueDevice: TestPki["issueDevice"] = async (identifier, issueOptions = {}) => {
    const name = issueOptions.name ?? `device-${identifier}`;
    if (!SAFE_NAME.test(name) || !/^[^/\\]+$/.test(identifier)) {
      throw new ValidationError({
        path: "identifier",
        value: identifier,
        reason: "must be usable in a file name and a certificate subject",
      });
    }
    const pair = await issue(
      name,
      identifier,
      deviceExtensions,
      issueOptions.selfSigned ? undefined : "signer",
    );
    if (!issueOptions.name) devices[identifier] = pair;
    return pair;
  };
  for (const identifier of options.devices ?? []) await issueDevice(identifier);
  return { directory, serverCa, server, signer, devices, issueDevice };
}
