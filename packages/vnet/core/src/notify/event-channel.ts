import { constants, openSync } from "node:fs";
import { lstat, rm } from "node:fs/promises";
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
  /** Stops reading (the FIFO stays for the next channel on the same path). */
  close(): Promise<void>;
}

export interface OpenEventChannelOptions {
  readonly runner: CommandRunner;
  readonly mkfifo: readonly string[];
  readonly logger: Logger;
}

async function isFifo(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isFIFO();
  } catch {
    return false;
  }
}

/**
 * Creates the FIFO (or reuses one left by an earlier channel on the same path: Node cannot
 * mkfifo, and a process per bring-up is time on the path to `lan`) and reads it without
 * blocking a thread: opened read-write and non-blocking, the open never waits for a writer,
 * reads never see end-of-file between writers, and libuv polls it like any pipe. A reused FIFO
 * holds no stale data: the kernel drops a pipe's buffer when its last descriptor closes.
 * `close()` leaves the FIFO for the next channel; the engine removes them when it stops.
 */
export async function openEventChannel(
  path: string,
  options: OpenEventChannelOptions,
): Promise<EventChannel> {
  if (!(await isFifo(path))) {
    await rm(path, { force: true });
    await options.runner.run([...options.mkfifo, "-m", "0600", path], { parentDeathSignal: false });
  }
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
    },
  };
}
