// The device-channel events of the reference (§4.1, §4.2) and how this client treats each: the
// catalogue the conformance test walks through.

/** Server → device events on `device`, and what the client does. */
export const SERVER_DEVICE_EVENTS = {
  update: "parsed strictly; applied through the update decision machine",
  reboot: "pushes `rebooting`, then the reboot callback (else Power)",
  identify: "calls the identify callback",
  "scripts/run": "answered at once with result `error` (this client runs no Elixir)",
  fwup_public_keys: "replaces the fwup keys when the list holds at least one key",
  archive_public_keys: "kept (archives are out of scope: issue 2)",
  archive: "logged and ignored (archives are out of scope: issue 2); no status is sent (quirk 25)",
  "extensions:get":
    "logged; no extensions channel is joined (extensions are out of scope: issue 2)",
} as const;

/** Device → server events on `device` this client sends. */
export const DEVICE_PUSHES = {
  status_update: "received, started, completed, failed, ignored, rescheduled",
  fwup_progress: "stage downloading/updating, value 0–100, throttled",
  rebooting: "in answer to `reboot`",
  firmware_validated: "once, when the firmware became valid after joining unvalidated",
  report_network_interface: "after each join",
  "scripts/run": "the answer to a `scripts/run`",
} as const;

/** Events of the reference this client deliberately does not send. */
export const DEVICE_PUSHES_NOT_SENT = {
  update_progress: "an alias the server accepts; fwup_progress is used",
  connection_types: "accepted by the server, never sent by NervesHubLink either",
} as const;

export type ServerDeviceEvent = keyof typeof SERVER_DEVICE_EVENTS;

export function isKnownServerEvent(event: string): event is ServerDeviceEvent {
  return Object.hasOwn(SERVER_DEVICE_EVENTS, event);
}
