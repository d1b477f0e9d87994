// Child process for the hub benchmark: opens COUNT device sockets with NH1 headers, joins each
// `device` channel, prints "ready" and holds them until stdin closes. Kept out of the hub's
// process so the hub's memory is measured alone.

import WebSocket from "ws";
import { signHeaders } from "../test/support/nh1-sign.js";

const [url, key, secret, countText] = process.argv.slice(2);
const count = Number(countText);
const sockets: WebSocket[] = [];

async function open(index: number): Promise<void> {
  const identifier = `bench-${index}`;
  const headers = signHeaders({
    key: key!,
    secret: secret!,
    identifier,
    signedAt: Math.floor(Date.now() / 1000),
  });
  const ws = new WebSocket(`${url}/device-socket/websocket?vsn=2.0.0`, {
    headers,
    perMessageDeflate: false,
  });
  sockets.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => {
      ws.send(JSON.stringify(["1", "1", "device", "phx_join", { device_api_version: "2.3.0" }]));
    });
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as unknown[];
      if (frame[1] === "1" && frame[3] === "phx_reply") resolve();
    });
    ws.once("error", reject);
  });
}

const batch = 50;
for (let start = 0; start < count; start += batch) {
  await Promise.all(
    Array.from({ length: Math.min(batch, count - start) }, (_, offset) => open(start + offset)),
  );
}
console.log("ready");
process.stdin.resume();
process.stdin.on("end", () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
