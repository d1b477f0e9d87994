import { readFile } from "node:fs/promises";
import { type SupervisedProcess, supervise } from "@runtime/command";
import { errorMessage } from "../log.js";
import { logOutput } from "../supervision.js";
import type { ServiceFactory } from "../technology.js";
import { parseUdhcpdLeases } from "./dhcpd-config.js";

/**
 * The `dhcp-server` service: runs `udhcpd -f <config_path>` and publishes
 * `["interface", ifname, "dhcpd", "leases"]`. udhcpd writes its lease file every `auto_time`
 * seconds (10 by default in our configs) and then runs the notify script, whose event makes
 * this service re-read the file; the property changes only when the leases do.
 *
 * Options: `config_path` (udhcpd.conf), `lease_file` (as named in it).
 */
export const dhcpServerService: ServiceFactory = async (context, options) => {
  const configPath = String(options.config_path ?? "");
  const leaseFile = String(options.lease_file ?? "");
  if (!configPath || !leaseFile) {
    throw new Error("dhcp-server needs config_path and lease_file options");
  }
  const property = ["interface", context.ifname, "dhcpd", "leases"] as const;
  const channel = await context.openEventChannel("udhcpd");
  let reading: Promise<void> = Promise.resolve();
  const readLeases = () => {
    reading = reading.then(async () => {
      if (context.signal.aborted) return;
      try {
        context.table.put(property, parseUdhcpdLeases(await readFile(leaseFile)));
      } catch (error) {
        context.logger.warn(`${context.ifname}: cannot read ${leaseFile}: ${errorMessage(error)}`);
        context.table.delete(property);
      }
    });
    return reading;
  };
  channel.onRecord((record) => {
    if (record.source === "udhcpd") void readLeases();
  });
  context.table.put(property, []);
  const daemon: SupervisedProcess = supervise(
    context.runner,
    [...context.programs.udhcpd, "-f", configPath],
    {
      env: { VNET_EVENT_FIFO: channel.path, VNET_EVENT_SOURCE: "udhcpd" },
      restart: { initialDelayMs: 1_000, maxDelayMs: 30_000 },
    },
  );
  logOutput(daemon, `udhcpd(${context.ifname})`, (line) => context.logger.debug(line));
  return {
    async stop() {
      await daemon.stop();
      await channel.close();
      await reading;
      context.table.delete(property);
    },
  };
};
