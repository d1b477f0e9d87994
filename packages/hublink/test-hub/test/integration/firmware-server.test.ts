// The firmware HTTP server: Range, redirects, errors, stalls, early close and the request log
// (checklist item 8), exercised with raw node:http requests on loopback.

import { request as httpRequest } from "node:http";
import { describeIntegration } from "@testing/netlab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FirmwareServer, type ServedFile } from "../../src/index.js";

describeIntegration("test-hub: firmware HTTP server", { tools: [] }, () => {
  let server: FirmwareServer;
  let file: ServedFile;
  const DATA = new Uint8Array(300_000).map((_, index) => (index * 7) % 256);

  interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
    error?: string;
  }

  function get(
    path: string,
    headers: Record<string, string> = {},
    method = "GET",
  ): Promise<Answer> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const request = httpRequest(`${server.origin}${path}`, { headers, method }, (response) => {
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        const done = (error?: string) =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
            ...(error ? { error } : {}),
          });
        response.on("end", () => done());
        response.on("aborted", () => done("aborted"));
        response.on("error", (error) => done(error.message));
      });
      request.on("error", (error) =>
        resolve({ status: 0, headers: {}, body: Buffer.concat(chunks), error: error.message }),
      );
      request.end();
    });
  }

  beforeAll(async () => {
    server = await FirmwareServer.start();
    file = server.serve("/fw/app.fw", DATA);
  });
  afterAll(() => server.stop());

  const slice = (start: number, end: number) => Buffer.from(DATA.subarray(start, end + 1));

  describe("ranges", () => {
    it("serves the whole file with 200, accept-ranges and content-length", async () => {
      const answer = await get("/fw/app.fw");
      expect(answer.status).toBe(200);
      expect(answer.headers).toMatchObject({
        "accept-ranges": "bytes",
        "content-length": "300000",
        "content-type": "application/octet-stream",
        etag: file.etag,
      });
      expect(answer.body.equals(Buffer.from(DATA))).toBe(true);
    });

    it("answers bytes=a-b and bytes=a- with 206, the slice length and content-range", async () => {
      const closed = await get("/fw/app.fw", { range: "bytes=100-199" });
      expect(closed).toMatchObject({ status: 206 });
      expect(closed.headers).toMatchObject({
        "content-range": "bytes 100-199/300000",
        "content-length": "100",
      });
      expect(closed.body.equals(slice(100, 199))).toBe(true);
      const open = await get("/fw/app.fw", { range: "bytes=299000-" });
      expect(open.headers).toMatchObject({
        "content-range": "bytes 299000-299999/300000",
        "content-length": "1000",
      });
      expect(open.body.equals(slice(299_000, 299_999))).toBe(true);
    });

    it("clamps an end one past EOF (NervesHubLink's retry range, quirk 10)", async () => {
      const answer = await get("/fw/app.fw", { range: "bytes=250000-300000" });
      expect(answer.headers["content-range"]).toBe("bytes 250000-299999/300000");
      expect(answer.body.length).toBe(50_000);
    });

    it("answers a range past the end with 416 and bytes */size", async () => {
      const answer = await get("/fw/app.fw", { range: "bytes=300000-" });
      expect(answer.status).toBe(416);
      expect(answer.headers["content-range"]).toBe("bytes */300000");
    });

    it("sends the whole file when If-Range names another version", async () => {
      expect((await get("/fw/app.fw", { range: "bytes=10-", "if-range": file.etag! })).status).toBe(
        206,
      );
      expect((await get("/fw/app.fw", { range: "bytes=10-", "if-range": '"old"' })).status).toBe(
        200,
      );
    });

    it("answers HEAD without a body and unknown paths with 404", async () => {
      const head = await get("/fw/app.fw", {}, "HEAD");
      expect(head).toMatchObject({ status: 200, body: Buffer.alloc(0) });
      expect(head.headers["content-length"]).toBe("300000");
      expect((await get("/fw/missing.fw")).status).toBe(404);
    });
  });

  describe("faults", () => {
    it("status faults apply to the next request only", async () => {
      server.inject("/fw/app.fw", { type: "status", status: 503 });
      expect((await get("/fw/app.fw")).status).toBe(503);
      expect((await get("/fw/app.fw")).status).toBe(200);
    });

    it("redirects to another path, which then serves the file", async () => {
      server.serve("/fw/real.fw", DATA);
      server.inject("/fw/app.fw", { type: "redirect", location: "/fw/real.fw", status: 301 });
      const answer = await get("/fw/app.fw");
      expect(answer).toMatchObject({ status: 301 });
      expect(answer.headers["location"]).toBe("/fw/real.fw");
      expect((await get("/fw/real.fw")).status).toBe(200);
    });

    it("disconnect cuts the body after N bytes (content-length mismatch)", async () => {
      server.inject("/fw/app.fw", { type: "disconnect", afterBytes: 70_000 });
      const answer = await get("/fw/app.fw");
      expect(answer.status).toBe(200);
      expect(answer.headers["content-length"]).toBe("300000");
      expect(answer.error).toBeDefined();
      expect(answer.body.length).toBe(70_000);
      expect(answer.body.equals(slice(0, 69_999))).toBe(true);
      const logged = server.requests("/fw/app.fw").at(-1)!;
      expect(logged).toMatchObject({
        outcome: "disconnected",
        bytesSent: 70_000,
        faults: [{ type: "disconnect", afterBytes: 70_000 }],
      });
    });

    it("a resumed request after the cut gets exactly the rest", async () => {
      const answer = await get("/fw/app.fw", { range: "bytes=70000-" });
      expect(Buffer.concat([slice(0, 69_999), answer.body]).equals(Buffer.from(DATA))).toBe(true);
    });

    it("a timed stall pauses after N bytes, then completes the body", async () => {
      server.inject("/fw/app.fw", { type: "stall", afterBytes: 1000, durationMs: 1_000 });
      let duringStall: { bytesSent: number; outcome: string } | undefined;
      const body = await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        httpRequest(`${server.origin}/fw/app.fw`, (response) => {
          response.on("data", (chunk: Buffer) => {
            chunks.push(chunk);
            if (!duringStall && Buffer.concat(chunks).length === 1000) {
              const { bytesSent, outcome } = server.requests("/fw/app.fw").at(-1)!;
              duringStall = { bytesSent, outcome };
            }
          });
          response.on("end", () => resolve(Buffer.concat(chunks)));
        }).end();
      });
      expect(duringStall).toEqual({ bytesSent: 1000, outcome: "pending" });
      expect(body.equals(Buffer.from(DATA))).toBe(true);
      expect(server.requests("/fw/app.fw").at(-1)?.outcome).toBe("complete");
    });

    it("an endless stall holds until the client gives up", async () => {
      server.inject("/fw/app.fw", { type: "stall", afterBytes: 10 });
      const received: Buffer[] = [];
      const aborted = new Promise<void>((resolve) => {
        const request = httpRequest(`${server.origin}/fw/app.fw`, (response) => {
          response.on("data", (chunk: Buffer) => {
            received.push(chunk);
            if (Buffer.concat(received).length >= 10) request.destroy(); // the client's idle timeout
          });
        });
        request.on("close", () => resolve());
        request.end();
      });
      await aborted;
      const logged = await server.waitForRequest(
        (entry) => entry.faults[0]?.type === "stall" && entry.bytesSent === 10,
      );
      expect(logged.outcome).toBe("aborted");
    });

    it("ignoreRange answers a ranged request with 200 and the whole file (a broken server)", async () => {
      server.inject("/fw/app.fw", { type: "ignoreRange" });
      const answer = await get("/fw/app.fw", { range: "bytes=5-" });
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(300_000);
    });

    it("chunked framing has no content-length; throttle slows; faults can be conditional", async () => {
      server.inject("/fw/app.fw", { type: "framing", framing: "chunked" });
      const chunked = await get("/fw/app.fw");
      expect(chunked.headers["content-length"]).toBeUndefined();
      expect(chunked.headers["transfer-encoding"]).toBe("chunked");
      server.inject(
        "/fw/app.fw",
        { type: "status", status: 404 },
        { when: (r) => r.retryNumber === "2" },
      );
      expect((await get("/fw/app.fw", { "x-retry-number": "1" })).status).toBe(200);
      expect((await get("/fw/app.fw", { "x-retry-number": "2" })).status).toBe(404);
    });
  });

  describe("more faults (the downloader's scenarios)", () => {
    it("hang never answers; destroy closes without answering", async () => {
      server.inject("/fw/app.fw", { type: "destroy" });
      expect((await get("/fw/app.fw")).error).toBeDefined();
      server.inject("/fw/app.fw", { type: "hang" });
      const answer = await new Promise<string>((resolve) => {
        const request = httpRequest(`${server.origin}/fw/app.fw`, () => resolve("answered"));
        request.on("error", () => resolve("gave up"));
        server
          .waitForRequest((entry) => entry.faults[0]?.type === "hang", { finished: false })
          .then(() => request.destroy());
        request.end();
      });
      expect(answer).toBe("gave up");
    });

    it("disconnect with reset ends the connection with an RST", async () => {
      server.inject("/fw/app.fw", { type: "disconnect", afterBytes: 1000, reset: true });
      const answer = await get("/fw/app.fw");
      expect(answer.error).toBeDefined();
      expect(server.requests("/fw/app.fw").at(-1)).toMatchObject({
        outcome: "disconnected",
        bytesSent: 1000,
      });
    });

    it("shortRange answers a correct but shorter 206", async () => {
      server.inject("/fw/app.fw", { type: "shortRange", bytes: 100 });
      const answer = await get("/fw/app.fw", { range: "bytes=1000-" });
      expect(answer.status).toBe(206);
      expect(answer.headers["content-range"]).toBe("bytes 1000-1099/300000");
      expect(answer.body.equals(slice(1000, 1099))).toBe(true);
    });

    it("close framing ends the body by closing; extraBytes adds garbage; declareLength lies", async () => {
      server.inject("/fw/app.fw", { type: "framing", framing: "close" });
      const closed = await get("/fw/app.fw");
      expect(closed.headers["content-length"]).toBeUndefined();
      expect(closed.headers["transfer-encoding"]).toBeUndefined();
      expect(closed.body.equals(Buffer.from(DATA))).toBe(true);
      server.inject("/fw/app.fw", [
        { type: "extraBytes", count: 5 },
        { type: "framing", framing: "close" },
      ]);
      const extra = await get("/fw/app.fw", { range: "bytes=299990-" });
      expect(
        extra.body.equals(Buffer.concat([slice(299_990, 299_999), Buffer.alloc(5, 0xee)])),
      ).toBe(true);
      server.inject("/fw/app.fw", { type: "declareLength", length: 400_000 });
      const short = await get("/fw/app.fw");
      expect(short.headers["content-length"]).toBe("400000");
      expect(short.body.length).toBe(300_000);
      expect(short.error).toBeDefined();
    });

    it("entity tags: none, overridden, Last-Modified as If-Range, ignoreIfRange", async () => {
      server.serve("/fw/plain.fw", DATA, {
        etag: null,
        lastModified: "Mon, 23 Nov 2026 10:00:00 GMT",
      });
      const plain = await get("/fw/plain.fw", {
        range: "bytes=5-",
        "if-range": "Mon, 23 Nov 2026 10:00:00 GMT",
      });
      expect(plain.status).toBe(206);
      expect(plain.headers["etag"]).toBeUndefined();
      server.inject("/fw/app.fw", { type: "etag", etag: '"v2"' });
      expect((await get("/fw/app.fw")).headers["etag"]).toBe('"v2"');
      server.inject("/fw/app.fw", { type: "ignoreIfRange" });
      expect((await get("/fw/app.fw", { range: "bytes=5-", "if-range": '"old"' })).status).toBe(
        206,
      );
    });

    it("contentRange lies about the range it sends", async () => {
      server.inject("/fw/app.fw", { type: "contentRange", value: "bytes 0-9/300000" });
      const answer = await get("/fw/app.fw", { range: "bytes=50-59" });
      expect(answer.headers["content-range"]).toBe("bytes 0-9/300000");
      expect(answer.body.equals(slice(50, 59))).toBe(true);
    });

    it("numbers connections, so a test can tell a retry used a new one", async () => {
      await get("/fw/app.fw", { connection: "close" });
      await get("/fw/app.fw", { connection: "close" });
      const [first, second] = server.requests("/fw/app.fw").slice(-2);
      expect(second!.connection).toBe(first!.connection + 1);
      expect(server.connectionsOpened).toBe(second!.connection);
      expect(server.ranges("/fw/app.fw").at(-1)).toBe("-");
    });
  });

  describe("request log", () => {
    it("records method, path, query, range, X-Retry-Number, User-Agent and the outcome", async () => {
      server.clearRequests();
      await get("/fw/app.fw?X-Amz-Signature=secret", {
        "user-agent": "NHL/2.12.0",
        "x-retry-number": "0",
        range: "bytes=0-9",
      });
      expect(server.requests()).toEqual([
        expect.objectContaining({
          method: "GET",
          path: "/fw/app.fw",
          query: "X-Amz-Signature=secret",
          range: "bytes=0-9",
          retryNumber: "0",
          userAgent: "NHL/2.12.0",
          status: 206,
          bytesSent: 10,
          outcome: "complete",
          responseHeaders: expect.objectContaining({ "content-range": "bytes 0-9/300000" }),
        }),
      ]);
    });
  });
});
