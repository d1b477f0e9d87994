// The three channels of the device socket and what the server does with each message.
//
// - `device`: nerves-hub/nerves_hub_web lib/nerves_hub_web/channels/device_channel.ex and
//   lib/nerves_hub/device_link.ex (`device_message/3`: every clause returns `{session, []}`, so no
//   device push is ever answered; `status_update/2`) and lib/nerves_hub/firmware_updates.ex
//   (`status_update/4`: what `ignored`, `rescheduled` and `failed` do to the in-flight update and
//   the penalty box).
// - `console`: lib/nerves_hub_web/channels/console_channel.ex (only `up` and the three
//   `file-data*` events have clauses; anything else crashes the channel).
// - `extensions`: lib/nerves_hub_web/channels/extensions_channel.ex and
//   lib/nerves_hub/extensions/dispatch.ex (`join/2`, `message/3`), with the attach behaviour of
//   lib/nerves_hub/extensions/{health,geo,local_shell,network_identity,logging}.ex.

import type { JsonValue } from "../phoenix/frame.js";
import { parseVersion, versionMatches } from "../phoenix/version.js";
import type { DeviceState } from "./registry.js";
import type { Channel } from "./socket.js";
import type { ExtensionName, UpdateStatusRecord } from "./types.js";
import { EXTENSION_NAMES } from "./types.js";

type Payload = JsonValue | Uint8Array;
type HandleResult = ReturnType<Channel["handleIn"]>;

function isObject(value: unknown): value is Record<string, JsonValue> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}

/** What channels need from the hub. */
export interface ChannelContext {
  now(): number;
  penaltyTimeoutMinutes: number;
  recordUpdateStatus(device: DeviceState, record: UpdateStatusRecord): void;
  /** A `scripts/run` result arrived for `ref`. */
  scriptResult(device: DeviceState, ref: string, output: string): void;
  healthIntervalMinutes: number;
  geoIntervalMinutes: number;
  analyticsEnabled: boolean;
  allowedExtensions(device: DeviceState): Set<ExtensionName>;
}

abstract class BaseChannel implements Channel {
  readonly joinedAtMs: number;
  constructor(
    readonly topic: string,
    readonly joinRef: JsonValue,
    readonly payload: Payload,
    now: number,
  ) {
    this.joinedAtMs = now;
  }
  abstract handleIn(event: string, payload: Payload, ref: JsonValue): HandleResult;
  dispose(): void {}
}

/** In-flight update bookkeeping for one status, per `FirmwareUpdates.status_update/4`. */
function applyStatus(
  device: DeviceState,
  status: string,
  payload: Record<string, JsonValue>,
  progress: number | null,
  context: ChannelContext,
): "crash" | undefined {
  const now = context.now();
  const inflight = device.inflightUpdate;
  const penalty = () => {
    if (inflight?.deploymentId != null) {
      device.updatesBlockedUntilMs = now + context.penaltyTimeoutMinutes * 60_000;
    }
  };
  if (status.toLowerCase().includes("fwup error")) {
    // A temporary hook for old clients: any status mentioning "fwup error" is a failure.
    penalty();
    device.inflightUpdate = null;
    return undefined;
  }
  switch (status) {
    case "ignored":
    case "failed":
      penalty();
      device.inflightUpdate = null;
      return undefined;
    case "rescheduled": {
      if (!("delay_for" in payload)) break;
      const delay = payload["delay_for"];
      // NaiveDateTime.add(delay_for, :millisecond) raises on anything but an integer.
      if (typeof delay !== "number" || !Number.isInteger(delay)) return "crash";
      // The server adds delay_for as MILLISECONDS (quirk 1): Link's "5" minutes blocks 5 ms.
      if (inflight?.deploymentId != null) device.updatesBlockedUntilMs = now + delay;
      device.inflightUpdate = null;
      return undefined;
    }
    default:
      break;
  }
  // Any other status updates the in-flight record; one is created when there is none (quirk 25).
  device.inflightUpdate = {
    firmwareUuid: inflight?.firmwareUuid ?? null,
    deploymentId: inflight?.deploymentId ?? null,
    status,
    progress: status === "downloading" || status === "updating" ? progress : null,
    startedAtMs: inflight?.startedAtMs ?? now,
  };
  return undefined;
}

export class DeviceChannel extends BaseChannel {
  constructor(
    joinRef: JsonValue,
    payload: Payload,
    private readonly device: DeviceState,
    private readonly context: ChannelContext,
  ) {
    super("device", joinRef, payload, context.now());
  }

  handleIn(event: string, payload: Payload, _ref: JsonValue): HandleResult {
    const { device, context } = this;
    const atMs = context.now();
    if (event === "firmware_validated") {
      device.firmwareValidation = "validated";
      return undefined;
    }
    if ((event === "fwup_progress" || event === "update_progress") && isObject(payload)) {
      if (!("value" in payload)) return undefined; // no clause matches: unhandled, ignored
      const value = payload["value"];
      const stage = payload["stage"];
      let status: string;
      let progress: number | null = typeof value === "number" ? value : null;
      if (stage === undefined || stage === null) {
        status = value === 100 ? "completed" : "updating";
        if (value === 100) progress = null;
      } else if (typeof stage === "string") {
        status = stage;
      } else {
        return "crash"; // String.downcase/1 on a non-binary stage
      }
      context.recordUpdateStatus(device, { status, payload, event, atMs });
      return applyStatus(device, status, payload, progress, context);
    }
    if (event === "connection_types" && isObject(payload) && "values" in payload) {
      device.connectionTypes = payload["values"]!;
      return undefined;
    }
    if (event === "status_update") {
      // Both status_update/2 clauses need a "status" key, and String.downcase/1 a binary.
      if (!isObject(payload) || typeof payload["status"] !== "string") return "crash";
      const status = payload["status"];
      context.recordUpdateStatus(device, { status, payload, event, atMs });
      return applyStatus(device, status, payload, null, context);
    }
    if (event === "scripts/run" && isObject(payload)) {
      const ref = payload["ref"];
      if (ref === "connecting_code" || typeof ref !== "string") return undefined;
      const output = [payload["output"], payload["return"]]
        .map((part) => (part === undefined || part === null ? "" : String(part)))
        .join("\n")
        .trim();
      context.scriptResult(device, ref, output);
      return undefined;
    }
    if (event === "report_network_interface" && isObject(payload) && "interface" in payload) {
      const reported = payload["interface"];
      device.networkInterface = typeof reported === "string" ? reported : JSON.stringify(reported);
      return undefined;
    }
    // `rebooting` and everything unknown: recorded by the socket, otherwise ignored.
    return undefined;
  }
}

export class ConsoleChannel extends BaseChannel {
  constructor(joinRef: JsonValue, payload: Payload, device: DeviceState, context: ChannelContext) {
    super("console", joinRef, payload, context.now());
    if (isObject(payload)) {
      const version = payload["console_version"];
      device.consoleVersion = typeof version === "string" ? version : null;
    }
  }

  handleIn(event: string, payload: Payload): HandleResult {
    if (event === "up") {
      // `current_line <> payload["data"]` raises unless data is a binary.
      return isObject(payload) && typeof payload["data"] === "string" ? undefined : "crash";
    }
    if (event === "file-data/start" || event === "file-data" || event === "file-data/stop") {
      return undefined;
    }
    return "crash"; // no handle_in/3 clause
  }
}

interface ExtensionTimer {
  timer: NodeJS.Timeout;
}

/** Decides an `extensions` join: `{name: version}` → the sorted list of names to attach. */
export function decideExtensionsJoin(
  payload: Payload,
  allowed: Set<ExtensionName>,
  analyticsEnabled: boolean,
):
  | { ok: true; attach: string[]; reported: Map<string, { version: JsonValue; attach: boolean }> }
  | { ok: false } {
  if (!isObject(payload)) return { ok: false };
  const reported = new Map<string, { version: JsonValue; attach: boolean }>();
  for (const [name, version] of Object.entries(payload)) {
    // Version.parse/1 has no clause for non-binaries: the join crashes.
    if (typeof version !== "string") return { ok: false };
    const known = EXTENSION_NAMES.includes(name as ExtensionName);
    const enabled = name !== "logging" || analyticsEnabled;
    const attach =
      parseVersion(version) !== undefined &&
      known &&
      allowed.has(name as ExtensionName) &&
      versionMatches(version, "~> 0.0.1") &&
      enabled;
    reported.set(name, { version, attach });
  }
  // `for {key, %{attach?: true}} <- extensions`: map order, i.e. sorted keys.
  const attach = [...reported.entries()]
    .filter(([, entry]) => entry.attach)
    .map(([name]) => name)
    .sort();
  return { ok: true, attach, reported };
}

export class ExtensionsChannel extends BaseChannel {
  readonly #timers = new Map<string, ExtensionTimer>();

  constructor(
    joinRef: JsonValue,
    payload: Payload,
    private readonly device: DeviceState,
    private readonly context: ChannelContext,
    private readonly push: (event: string, payload: JsonValue) => void,
  ) {
    super("extensions", joinRef, payload, context.now());
  }

  #every(name: string, minutes: number, event: string): void {
    if (minutes <= 0) return;
    const timer = setInterval(() => this.push(event, {}), minutes * 60_000);
    timer.unref?.();
    this.#timers.set(name, { timer });
  }

  #cancel(name: string): void {
    const entry = this.#timers.get(name);
    if (entry) clearInterval(entry.timer);
    this.#timers.delete(name);
  }

  #attach(name: string): void {
    switch (name) {
      case "health":
        this.push("health:check", {});
        this.#every(name, this.context.healthIntervalMinutes, "health:check");
        break;
      case "geo":
        this.push("geo:location:request", {});
        this.#every(name, this.context.geoIntervalMinutes, "geo:location:request");
        break;
      case "local_shell":
        this.push("local_shell:request_shell", {});
        break;
      case "network_identity":
        this.push("network_identity:request", {});
        break;
      default:
        break; // logging: nothing to ask for
    }
  }

  handleIn(scopedEvent: string, payload: Payload): HandleResult {
    const separator = scopedEvent.indexOf(":");
    const name = separator === -1 ? undefined : scopedEvent.slice(0, separator);
    const event = separator === -1 ? "" : scopedEvent.slice(separator + 1);
    const entry = name === undefined ? undefined : this.device.extensions.get(name);
    if (name === undefined || !entry?.attach) {
      // Unknown or not allowed: tell the device to detach it.
      return { status: "error", response: "detach" };
    }
    if (event === "attached") {
      entry.status = "attached";
      this.#attach(name);
    } else if (event === "detached" || event === "error") {
      entry.status = "detached";
      this.#cancel(name);
    } else if (entry.status === "attached") {
      if (name === "health" && event === "report" && isObject(payload)) {
        this.device.lastHealthReport = payload["value"] ?? null;
      } else if (name === "geo" && event === "location:update" && isObject(payload)) {
        this.device.location = payload;
      } else if (name === "network_identity" && event === "report" && isObject(payload)) {
        this.device.networkIdentities = payload["identities"] ?? null;
      }
    }
    // Messages for an extension that is not attached are dropped; nothing is ever replied.
    return undefined;
  }

  override dispose(): void {
    for (const name of [...this.#timers.keys()]) this.#cancel(name);
  }
}
