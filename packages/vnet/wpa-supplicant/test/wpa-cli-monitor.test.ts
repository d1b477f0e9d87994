import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type MonitorSignal, WpaCliMonitorParser } from "../src/index.js";

// Output of interactive `wpa_cli -p DIR -i e0` (2.10) with stdin a pipe, as captured here.
const BANNER =
  "wpa_cli v2.10\nCopyright (c) 2004-2022, Jouni Malinen <j@w1.fi> and contributors\n\nThis software may be distributed under the terms of the BSD license.\nSee README for more details.\n\n\n\nInteractive mode\n\n";
const CONNECTED_SESSION =
  `${BANNER}> ` +
  "\r<3>CTRL-EVENT-DISCONNECTED bssid=01:80:c2:00:00:03 reason=3 locally_generated=1\n> " +
  "\r<3>CTRL-EVENT-TERMINATING \n> " +
  "\rConnection to wpa_supplicant lost - trying to reconnect\n> " +
  "\rConnection to wpa_supplicant re-established\n> " +
  "\r<3>CTRL-EVENT-EAP-STARTED EAP authentication started\n> \r\u001b[K";
const UNREACHABLE_SESSION = `${BANNER}Could not connect to wpa_supplicant: nonexist - re-trying\n`;

function parseAll(chunks: string[]): MonitorSignal[] {
  const parser = new WpaCliMonitorParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

describe("WpaCliMonitorParser", () => {
  it("finds the attach, the events, the loss and the reconnection", () => {
    expect(parseAll([CONNECTED_SESSION])).toEqual([
      { type: "attached" },
      {
        type: "event",
        message: "<3>CTRL-EVENT-DISCONNECTED bssid=01:80:c2:00:00:03 reason=3 locally_generated=1",
      },
      { type: "event", message: "<3>CTRL-EVENT-TERMINATING " },
      { type: "lost" },
      { type: "attached" },
      { type: "event", message: "<3>CTRL-EVENT-EAP-STARTED EAP authentication started" },
    ]);
  });

  it("reports a daemon it cannot reach, and no attach", () => {
    expect(parseAll([UNREACHABLE_SESSION])).toEqual([{ type: "unreachable" }]);
  });

  it("gives the same signals however the output is cut into chunks", () => {
    const whole = parseAll([CONNECTED_SESSION]);
    fc.assert(
      fc.property(fc.array(fc.nat(CONNECTED_SESSION.length), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: string[] = [];
        let start = 0;
        for (const point of points) {
          chunks.push(CONNECTED_SESSION.slice(start, point));
          start = point;
        }
        chunks.push(CONNECTED_SESSION.slice(start));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });
});
