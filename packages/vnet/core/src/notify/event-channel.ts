import { constants, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { Socket } from "node:net";
import type { CommandRunner } from "@runtime/command";
import { errorMessage, type Logger } from "../log.js";
import { type EventRecord, RecordDecoder } from "./script.js";

/** A FIFO that the notify script writes event records into. */
export interface EventChannel {
  /** The FIFO's path: pass it to the daemon as `VNET_EVENT_FIFO`. */
  readonly path: string;
  /** Calls `listener` for every record; returns the unsubscribe function. */
  onRecord(listener: (record: EventRecord) => void): () => void;
  /** Stops reading and removes the FIFO. */
  close(): Promise<void>;
}

export interface OpenEventChannelOptions {
  readonly runner: CommandRunner;
  readonly mkfifo: readonly string[];
  readonly logger: Logger;
}

/**
 * Creates the FIFO (replacing whatever was at `path`) and reads it without blocking a thread:
 * the FIFO is opened read-write and non-blocking, so the open never waits for a writer, reads
 * never see end-of-file between writers, and libuv polls it like any pipe.
 */
export async function openEventChannel(
  path: string,
  options: OpenEventChannelOptions,
): Promise<EventChannel> {
  await rm(path, { force: true });
  await options.runner.run([...options.mkfifo, "-m", "0600", path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const socket = new Socket({ fd, readable: true, writable: false });
  const decoder = new RecordDecoder();
  const listeners = new Set<(record: EventRecord) => void>();
  socket.on("data", (chunk: Buffer) => {
    const { records, errors } = decoder.push(chunk);
    for (const error of errors) options.logger.warn(`${path}: ${error}`);
    for (const record of records) {
      for (const listener of listeners) {
        try {
          listener(record);
        } catch (error) {
          options.logger.error(`${path}: event handler failed: ${errorMessage(error)}`);
        }
      }
    }
  });
  socket.on("error", (error) => options.logger.error(`${path}: ${errorMessage(error)}`));
  let closed = false;
  return {
    path,
    onRecord(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      socket.destroy();
      await rm(path, { force: true });
    },
  };
}
