// The pluggable updater interface (like NervesHubLink's UpdateManager.Updater behaviour): the
// update manager decides *whether* to update; an updater does the download and the install.
import type { DownloadOptions } from "@hublink/downloader";
import type { CommandRunner } from "@runtime/command";
import type { FwupSettings } from "../config.js";
import type { Logger } from "../logger.js";
import type { UpdateInfo } from "../update-info.js";
import type { UpdaterOutcome } from "../update-machine.js";

/** What fwup said, for the `fwupMessage` callback (Link's `handle_fwup_message`). */
export type FwupMessage =
  | { type: "progress"; percent: number }
  | { type: "ok"; code: number; message: string }
  | { type: "warning"; code: number; message: string }
  | { type: "error"; code: number; message: string };

export interface UpdaterContext {
  info: UpdateInfo;
  /** Aborted when the client stops; the updater must stop promptly and clean up. */
  signal: AbortSignal;
  fwup: FwupSettings;
  /** fwup's `-d`: configuration, else KV `nerves_fw_devpath`, else `/dev/mmcblk0` (quirk 27). */
  devpath: string;
  /** fwup public keys now in force (configured, or pushed by the server). */
  fwupPublicKeys: readonly string[];
  runner: CommandRunner;
  /** The client's data directory. */
  dataPath: string;
  /**
   * `@hublink/downloader` options from the client's configuration: `retry` (the `downloader.retry`
   * knobs), `tls` and `proxy` (for the dispatcher each download creates), `table` (to name the
   * interface). The updater adds the offer's `sha256`, `size` and a `signal`.
   */
  downloadOptions: DownloadOptions;
  /** Progress for the server (`fwup_progress`) and the application; throttled for you. */
  progress(stage: "downloading" | "updating", percent: number): void;
  /**
   * A firmware response arrived on a connection (each attempt: `status_update started` with the
   * interface, from the event's `interface`, else its `localAddress`, like Link's getifaddrs).
   */
  downloadStarted(connection: {
    interface?: string | undefined;
    localAddress?: string | undefined;
  }): void;
  fwupMessage(message: FwupMessage): void;
  logger: Logger;
}

export interface Updater {
  /** For logs and `status()`. */
  readonly name: string;
  /**
   * Whether what this updater installs can be verified with the keys at hand. When false the
   * update is refused (`Refusing unverified firmware : no public keys available`).
   */
  canVerify(fwupPublicKeys: readonly string[]): boolean;
  /** Downloads and installs. Resolves with the outcome; a throw counts as an unexpected error. */
  run(context: UpdaterContext): Promise<UpdaterOutcome>;
}
