import { DeviceError } from "@runtime/errors";
import type { JsonObject, JsonValue, TypedConfig } from "./config.js";

/**
 * A file written right before the up commands and deleted after tear-down. `mode` defaults to
 * 0o644; use 0o600 for anything that holds a secret.
 */
export interface FileSpec {
  readonly path: string;
  readonly content: string;
  readonly mode?: number;
}

/** Run a program; a non-zero exit fails the command list (the rest is skipped). */
export interface RunCommand {
  readonly run: readonly string[];
  readonly env?: { readonly [name: string]: string };
}

/** Run a program and carry on whatever its exit status. */
export interface RunIgnoringErrorsCommand {
  readonly runIgnoringErrors: readonly string[];
  readonly env?: { readonly [name: string]: string };
}

/** Record `ifname`'s addressing for routing: its subnets and default gateway. */
export interface RoutesSetStep {
  readonly step: "routes.set";
  readonly ifname: string;
  readonly subnets: readonly { readonly address: string; readonly prefix_length: number }[];
  readonly gateway: string | null;
}

/** Forget `ifname`'s addressing; its default route goes and its connection is `disconnected`. */
export interface RoutesClearStep {
  readonly step: "routes.clear";
  readonly ifname: string;
}

/** Set `ifname`'s name servers and search domain in the owned resolv.conf. */
export interface DnsSetStep {
  readonly step: "dns.set";
  readonly ifname: string;
  readonly domain: string | null;
  readonly name_servers: readonly string[];
  /** Which of the interface's sources this is (`ipv4` when absent, `ipv6`, ...). */
  readonly source?: string;
}

/** Remove `ifname`'s name servers and search domain (of `source`, default `ipv4`). */
export interface DnsClearStep {
  readonly step: "dns.clear";
  readonly ifname: string;
  readonly source?: string;
}

/** Delete every property under `["interface", ifname, ...path]`. */
export interface PropertiesDeleteStep {
  readonly step: "properties.delete";
  readonly ifname: string;
  readonly path: readonly string[];
}

/** The named steps the engine itself interprets. */
export type BuiltInStep =
  | RoutesSetStep
  | RoutesClearStep
  | DnsSetStep
  | DnsClearStep
  | PropertiesDeleteStep;

/**
 * A named step: plain data the engine interprets in-process, so recipes stay comparable in
 * snapshot tests. Technologies register their own step names (`Technology.steps`).
 */
export interface CustomStep {
  readonly step: string;
  readonly [field: string]: JsonValue;
}

export type StepCommand = BuiltInStep | CustomStep;

/** One entry of `upCommands` / `downCommands`. */
export type Command = RunCommand | RunIgnoringErrorsCommand | StepCommand;

/** Restart policy of a daemon (see `supervise()` in `@runtime/command`). */
export interface DaemonRestart {
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly factor?: number;
  readonly resetAfterMs?: number;
  /**
   * After this many consecutive quick exits the interface is torn down and configured again from
   * scratch (the escalation VintageNet gets from `one_for_all` supervisors). Default: never.
   */
  readonly maxRestarts?: number;
}

/** A long-running process supervised while the interface is configured. Run it in the foreground. */
export interface DaemonSpec {
  /** Unique within the recipe, e.g. `"wpa_supplicant"`. */
  readonly id: string;
  readonly argv: readonly string[];
  readonly env?: { readonly [name: string]: string };
  readonly restart?: DaemonRestart;
}

/**
 * An in-process service started while the interface is configured (DHCP client, connectivity
 * checker, ...), described as data and built by the service factory registered under `service`.
 */
export interface ServiceSpec {
  readonly service: string;
  /** Unique within the recipe; default the service name. `ioctl` handlers look services up by it. */
  readonly id?: string;
  readonly options?: JsonObject;
}

/**
 * The declarative recipe a Technology produces for one interface. Plain JSON data: technologies
 * are tested by comparing recipes, and the engine executes any recipe the same way.
 */
export interface RawConfig {
  readonly ifname: string;
  /** The technology type that produced the recipe. */
  readonly type: string;
  /** The normalized configuration (what is published, persisted and compared). */
  readonly sourceConfig: TypedConfig;
  /** Interfaces that must be present before bring-up. Usually `[ifname]`; `[]` for `null`. */
  readonly requiredIfnames: readonly string[];
  /** Wait before retrying after a failed bring-up or while required interfaces are missing. */
  readonly retryMillis: number;
  readonly files: readonly FileSpec[];
  /** Deleted before bring-up and after tear-down (stale sockets, pid files). */
  readonly cleanupFiles: readonly string[];
  readonly upCommands: readonly Command[];
  /** Time limit of the whole up command list. */
  readonly upCommandMillis: number;
  readonly downCommands: readonly Command[];
  /** Time limit of the whole down command list. */
  readonly downCommandMillis: number;
  /** Started in order after the up commands succeeded, stopped in reverse order first on tear-down. */
  readonly daemons: readonly DaemonSpec[];
  /** Started after the daemons, in order; stopped before them, in reverse order. */
  readonly services: readonly ServiceSpec[];
}

/** The parts of a recipe that helpers contribute and {@link mergeRawConfig} appends. */
export type RawConfigParts = Partial<
  Pick<RawConfig, "files" | "cleanupFiles" | "upCommands" | "downCommands" | "daemons" | "services">
>;

export const DEFAULT_RETRY_MILLIS = 30_000;
export const DEFAULT_UP_COMMAND_MILLIS = 5_000;
export const DEFAULT_DOWN_COMMAND_MILLIS = 5_000;

/**
 * A recipe with VintageNet's defaults (`requiredIfnames: [ifname]`, 30 s retry, 5 s command time
 * limits, nothing to do) and `fields` on top.
 */
export function rawConfig<C extends TypedConfig>(
  ifname: string,
  sourceConfig: C,
  fields: Partial<Omit<RawConfig, "ifname" | "sourceConfig">> = {},
): RawConfig {
  return {
    ifname,
    type: sourceConfig.type,
    sourceConfig,
    requiredIfnames: [ifname],
    retryMillis: DEFAULT_RETRY_MILLIS,
    files: [],
    cleanupFiles: [],
    upCommands: [],
    upCommandMillis: DEFAULT_UP_COMMAND_MILLIS,
    downCommands: [],
    downCommandMillis: DEFAULT_DOWN_COMMAND_MILLIS,
    daemons: [],
    services: [],
    ...fields,
  };
}

/** Appends each part's lists to `base`, in order. Helpers compose recipes with it. */
export function mergeRawConfig(base: RawConfig, ...parts: RawConfigParts[]): RawConfig {
  let merged = base;
  for (const part of parts) {
    merged = {
      ...merged,
      files: [...merged.files, ...(part.files ?? [])],
      cleanupFiles: [...merged.cleanupFiles, ...(part.cleanupFiles ?? [])],
      upCommands: [...merged.upCommands, ...(part.upCommands ?? [])],
      downCommands: [...merged.downCommands, ...(part.downCommands ?? [])],
      daemons: [...merged.daemons, ...(part.daemons ?? [])],
      services: [...merged.services, ...(part.services ?? [])],
    };
  }
  return merged;
}

/** Which kind of command an entry is. */
export function commandKind(command: Command): "run" | "runIgnoringErrors" | "step" {
  if ("run" in command) return "run";
  if ("runIgnoringErrors" in command) return "runIgnoringErrors";
  return "step";
}

/** The service id a spec runs under. */
export function serviceId(spec: ServiceSpec): string {
  return spec.id ?? spec.service;
}

function isStringArray(value: unknown, nonEmpty = false): value is string[] {
  return (
    Array.isArray(value) &&
    (!nonEmpty || value.length > 0) &&
    value.every((item) => typeof item === "string")
  );
}

function isDuration(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function isEnv(value: unknown): boolean {
  return (
    value === undefined ||
    (typeof value === "object" &&
      value !== null &&
      Object.values(value).every((item) => typeof item === "string"))
  );
}

function checkCommand(command: unknown): string | undefined {
  if (typeof command !== "object" || command === null) return "is not an object";
  const entry = command as Record<string, unknown>;
  const kinds = ["run", "runIgnoringErrors", "step"].filter((kind) => kind in entry);
  if (kinds.length !== 1) return "must have exactly one of run, runIgnoringErrors, step";
  if ("step" in entry) {
    return typeof entry.step === "string" && entry.step !== "" ? undefined : "step is not a name";
  }
  const argv = entry.run ?? entry.runIgnoringErrors;
  if (!isStringArray(argv, true) || argv[0] === "") return "argv must be a non-empty string array";
  return isEnv(entry.env) ? undefined : "env must map names to strings";
}

/**
 * Checks that a technology produced a well-formed recipe. A failure is a bug in the technology,
 * reported as a `DeviceError` with code `BAD_RAW_CONFIG` naming the field.
 */
export function checkRawConfig(raw: RawConfig): void {
  const problems: string[] = [];
  const fail = (field: string, reason: string) => problems.push(`${field} ${reason}`);
  if (typeof raw !== "object" || raw === null) {
    throw new DeviceError("BAD_RAW_CONFIG", "toRawConfig did not return an object");
  }
  if (typeof raw.ifname !== "string" || raw.ifname === "") fail("ifname", "is not a name");
  if (typeof raw.type !== "string" || raw.type === "") fail("type", "is not a name");
  if (typeof raw.sourceConfig !== "object" || raw.sourceConfig === null) {
    fail("sourceConfig", "is not a config");
  }
  if (!isStringArray(raw.requiredIfnames)) fail("requiredIfnames", "is not a string array");
  for (const field of ["retryMillis", "upCommandMillis", "downCommandMillis"] as const) {
    if (!isDuration(raw[field])) fail(field, "is not a duration in milliseconds");
  }
  if (!Array.isArray(raw.files)) fail("files", "is not an array");
  else
    raw.files.forEach((file, index) => {
      if (typeof file?.path !== "string" || !file.path.startsWith("/")) {
        fail(`files[${index}].path`, "is not an absolute path");
      }
      if (typeof file?.content !== "string") fail(`files[${index}].content`, "is not a string");
      if (file?.mode !== undefined && !(Number.isInteger(file.mode) && file.mode >= 0)) {
        fail(`files[${index}].mode`, "is not a file mode");
      }
    });
  if (!isStringArray(raw.cleanupFiles)) fail("cleanupFiles", "is not a string array");
  for (const field of ["upCommands", "downCommands"] as const) {
    if (!Array.isArray(raw[field])) fail(field, "is not an array");
    else
      raw[field].forEach((command, index) => {
        const reason = checkCommand(command);
        if (reason) fail(`${field}[${index}]`, reason);
      });
  }
  const ids = new Set<string>();
  if (!Array.isArray(raw.daemons)) fail("daemons", "is not an array");
  else
    raw.daemons.forEach((daemon, index) => {
      if (typeof daemon?.id !== "string" || daemon.id === "")
        fail(`daemons[${index}].id`, "is empty");
      else if (ids.has(daemon.id)) fail(`daemons[${index}].id`, `repeats "${daemon.id}"`);
      else ids.add(daemon.id);
      if (!isStringArray(daemon?.argv, true)) fail(`daemons[${index}].argv`, "is not an argv");
      if (!isEnv(daemon?.env)) fail(`daemons[${index}].env`, "must map names to strings");
    });
  if (!Array.isArray(raw.services)) fail("services", "is not an array");
  else
    raw.services.forEach((service, index) => {
      if (typeof service?.service !== "string" || service.service === "") {
        fail(`services[${index}].service`, "is not a name");
        return;
      }
      const id = serviceId(service);
      if (ids.has(id)) fail(`services[${index}].id`, `repeats "${id}"`);
      ids.add(id);
    });
  if (problems.length > 0) {
    throw new DeviceError(
      "BAD_RAW_CONFIG",
      `technology "${String(raw.type)}" produced a bad recipe for ${String(raw.ifname)}: ${problems.join("; ")}`,
    );
  }
}
