// A tiny TCP server run by `startTcpResponder` inside a namespace: the "Internet" a connectivity
// check can reach. argv: HOST PORT MODE, where MODE is "close" (accept, then close at once) or
// "echo" (send back what arrives). Reports { type: "listening" } and one { type: "connection" }
// per accepted connection to the parent.
import { createServer } from "node:net";

const [host = "0.0.0.0", portText = "0", mode = "close"] = process.argv.slice(2);

const server = createServer((socket) => {
  process.send?.({ type: "connection", remoteAddress: socket.remoteAddress });
  socket.on("error", () => {});
  if (mode === "echo") socket.pipe(socket);
  else socket.end();
});
server.on("error", (error) => {
  console.error(`tcp-responder: ${error.message}`);
  process.exit(1);
});
server.listen({ host, port: Number(portText) }, () => {
  const address = server.address();
  process.send?.({
    type: "listening",
    port: typeof address === "object" && address ? address.port : Number(portText),
  });
});
