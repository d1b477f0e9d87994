// The `ethernet.ieee8021x` service: follows the recipe's wpa_supplicant through its control
// socket and publishes `["interface", ifname, "eap_status"]`. The only I/O of this package.
import { isDeepStrictEqual } from "node:util";
import { errorMessage } from "@runtime/errors";
import type { Service, ServiceContext, ServiceFactory } from "@vnet/core";
import {
  WpaControl,
  type WpaControlOptions,
  type WpaEvent,
  type WpaStatus,
} from "@vnet/wpa-supplicant";
import {
  type EapStatus,
  eapStatusFromWpaStatus,
  eapStatusOnCarrierLoss,
  initialEapStatus,
  nextEapStatus,
} from "./eap-status.js";

/** The part of `WpaControl` the service uses (tests pass a stand-in). */
export interface EapControl {
  on(event: "event", listener: (event: WpaEvent) => void): unknown;
  on(event: "reconnected", listener: () => void): unknown;
  on(event: "disconnected", listener: (reason: Error) => void): unknown;
  enableNetwork(id: number): Promise<void>;
  status(): Promise<WpaStatus>;
  request(command: string): Promise<string>;
  close(): Promise<void>;
}

export interface Ieee8021xServiceOptions {
  /** Opens the control connection. Default `WpaControl.connect`. */
  readonly connect?: (options: WpaControlOptions) => Promise<EapControl>;
  /** How long to wait for wpa_supplicant's control socket. Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
}

/**
 * Builds the service factory. The recipe's options: `ctrl_interface` (wpa_supplicant's control
 * directory) and `client_dir` (where our client socket goes).
 *
 * - Connects (attached, so it receives events), enables the network (the config file has it
 *   disabled, so no event of the authentication is missed), then reads STATUS once.
 * - Events update `eap_status` (see `nextEapStatus`); success and failure are logged, with the
 *   reason, never a credential.
 * - Carrier lost: `authorized` becomes false (a switch de-authorizes the port; DHCP stops).
 *   Carrier back: `REAUTHENTICATE` (an EAPOL-Start), because wpa_supplicant does not notice a
 *   cable being re-plugged.
 * - wpa_supplicant restarted (the engine supervises it): the client reconnects by itself; the
 *   service enables the network again and re-reads STATUS.
 * - The socket never answering: the service asks the engine to tear down and retry.
 */
export function createIeee8021xService(settings: Ieee8021xServiceOptions = {}): ServiceFactory {
  return (context, options) => {
    const ctrlInterface = options.ctrl_interface;
    const clientDir = options.client_dir;
    if (typeof ctrlInterface !== "string" || typeof clientDir !== "string") {
      throw new TypeError("ethernet.ieee8021x needs ctrl_interface and client_dir options");
    }
    const service = new Ieee8021xService(context, settings, ctrlInterface, clientDir);
    service.start();
    return service;
  };
}

class Ieee8021xService implements Service {
  private control: EapControl | undefined;
  private current: EapStatus = initialEapStatus();
  private carrier: boolean | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly path: readonly string[];
  private connecting: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: ServiceContext,
    private readonly settings: Ieee8021xServiceOptions,
    private readonly ctrlInterface: string,
    private readonly clientDir: string,
  ) {
    this.path = ["interface", context.ifname, "eap_status"];
  }

  start(): void {
    const { context } = this;
    this.publish(this.current);
    const lowerUp = ["interface", context.ifname, "lower_up"];
    this.carrier = context.table.get(lowerUp) === true ? true : undefined;
    this.unsubscribe = context.table.subscribe(lowerUp, (event) =>
      this.onCarrier(event.value === true),
    );
    this.connecting = this.connect();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.connecting;
    const control = this.control;
    this.control = undefined;
    await control?.close().catch(() => {});
    this.context.table.delete(this.path);
  }

  private get stopped(): boolean {
    return this.context.signal.aborted;
  }

  private async connect(): Promise<void> {
    const { context } = this;
    const connect =
      this.settings.connect ?? ((options: WpaControlOptions) => WpaControl.connect(options));
    let control: EapControl;
    try {
      control = await connect({
        ctrlInterface: this.ctrlInterface,
        ifname: context.ifname,
        clientDir: this.clientDir,
        runner: context.runner,
        connectTimeoutMs: this.settings.connectTimeoutMs ?? 10_000,
      });
    } catch (error) {
      if (!this.stopped) {
        context.fail(`wpa_supplicant's control socket did not answer: ${errorMessage(error)}`);
      }
      return;
    }
    if (this.stopped) {
      await control.close().catch(() => {});
      return;
    }
    this.control = control;
    control.on("event", (event) => this.onEvent(event));
    control.on("disconnected", (reason) =>
      context.logger.warn(`${context.ifname}: lost wpa_supplicant: ${reason.message}`),
    );
    control.on("reconnected", () => {
      void this.attach();
    });
    await this.attach();
  }

  /** Enables the network and takes STATUS as the truth from here on. */
  private async attach(): Promise<void> {
    const { context } = this;
    const control = this.control;
    if (!control || this.stopped) return;
    try {
      await control.enableNetwork(0);
      const status = await control.status();
      if (!this.stopped) this.update(eapStatusFromWpaStatus(status, this.current));
    } catch (error) {
      if (!this.stopped) {
        context.logger.warn(`${context.ifname}: 802.1X: ${errorMessage(error)}`);
      }
    }
  }

  private onEvent(event: WpaEvent): void {
    if (this.stopped) return;
    this.update(nextEapStatus(this.current, event));
  }

  private onCarrier(up: boolean): void {
    if (this.stopped) return;
    const previous = this.carrier;
    this.carrier = up;
    if (!up) {
      this.update(eapStatusOnCarrierLoss(this.current));
    } else if (previous === false) {
      // The cable is back. wpa_supplicant does not notice; a switch starts over on link up and
      // so do we (an EAPOL-Start), so the port gets authorized again.
      void this.control?.request("REAUTHENTICATE").catch((error: unknown) => {
        if (!this.stopped) {
          this.context.logger.warn(
            `${this.context.ifname}: 802.1X re-authentication: ${errorMessage(error)}`,
          );
        }
      });
    }
  }

  private update(next: EapStatus): void {
    const previous = this.current;
    if (isDeepStrictEqual(previous, next)) return;
    this.current = next;
    const { logger, ifname } = this.context;
    if (next.status !== previous.status) {
      if (next.status === "success") {
        logger.info(
          `${ifname}: 802.1X authentication succeeded${next.method ? ` (${next.method})` : ""}`,
        );
      } else if (next.status === "failure") {
        logger.warn(`${ifname}: 802.1X authentication failed: ${next.reason ?? "rejected"}`);
      }
    }
    this.publish(next);
  }

  private publish(status: EapStatus): void {
    this.context.table.put(this.path, { ...status });
  }
}

/** The default factory, registered as the `ethernet.ieee8021x` service. */
export const ieee8021xService: ServiceFactory = createIeee8021xService();
