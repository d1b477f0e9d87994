import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  header,
  parseContentRange,
  parseLength,
  parseRetryAfter,
  redactUrl,
  resumeKeyOf,
  strongEtag,
} from "../src/http.js";

describe("header", () => {
  it("takes the first value, trimmed, matching names case-insensitively", () => {
    expect(header({ etag: ' "a" ' }, "ETag")).toBe('"a"');
    expect(header({ "Content-Length": "5" }, "content-length")).toBe("5");
    expect(header({ "set-cookie": ["a", "b"] }, "set-cookie")).toBe("a");
    expect(header({}, "etag")).toBeUndefined();
  });
});

describe("parseLength", () => {
  it("accepts plain non-negative integers only", () => {
    expect(parseLength("0")).toBe(0);
    expect(parseLength("1073741824")).toBe(1073741824);
    for (const bad of [undefined, "", "-1", "1.5", "1e3", " 5", "0x10", "99999999999999999"]) {
      expect(parseLength(bad)).toBeUndefined();
    }
  });
});

describe("parseContentRange", () => {
  it("parses ranges, unknown totals and the 416 form", () => {
    expect(parseContentRange("bytes 100-199/1000")).toEqual({
      kind: "range",
      first: 100,
      last: 199,
      total: 1000,
    });
    expect(parseContentRange("bytes 0-0/*")).toEqual({
      kind: "range",
      first: 0,
      last: 0,
      total: undefined,
    });
    expect(parseContentRange("bytes */1000")).toEqual({ kind: "unsatisfied", total: 1000 });
  });
  it("rejects malformed or inconsistent ranges", () => {
    for (const bad of [
      undefined,
      "",
      "bytes 5-4/10",
      "bytes 0-10/10",
      "items 0-1/2",
      "bytes 0-/10",
      "bytes */*",
    ]) {
      expect(parseContentRange(bad)).toBeUndefined();
    }
  });
  it("round-trips every valid range (property)", () => {
    fc.assert(
      fc.property(fc.nat(10 ** 12), fc.nat(10 ** 6), fc.nat(10 ** 6), (first, span, after) => {
        const last = first + span;
        const total = last + 1 + after;
        expect(parseContentRange(`bytes ${first}-${last}/${total}`)).toEqual({
          kind: "range",
          first,
          last,
          total,
        });
      }),
    );
  });
});

describe("strongEtag", () => {
  it("keeps strong ETags and drops weak or malformed ones", () => {
    expect(strongEtag('"abc"')).toBe('"abc"');
    expect(strongEtag('W/"abc"')).toBeUndefined();
    expect(strongEtag("abc")).toBeUndefined();
    expect(strongEtag(undefined)).toBeUndefined();
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds, or a date against the server's own Date header", () => {
    expect(parseRetryAfter("120", undefined)).toBe(120_000);
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:28:30 GMT", "Wed, 21 Oct 2026 07:28:00 GMT")).toBe(
      30_000,
    );
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:28:30 GMT", undefined)).toBeUndefined();
    expect(parseRetryAfter("soon", "Wed, 21 Oct 2026 07:28:00 GMT")).toBeUndefined();
    expect(parseRetryAfter(undefined, undefined)).toBeUndefined();
  });
});

describe("URLs", () => {
  it("hides the query and credentials, which carry presigned signatures", () => {
    expect(redactUrl("https://u:p@cdn.example/fw.fw?X-Amz-Signature=abc#x")).toBe(
      "https://****:****@cdn.example/fw.fw?****",
    );
    expect(redactUrl("not a url")).toBe("<invalid url>");
  });
  it("keys a resource by origin and path, so a fresh presigned URL resumes the same partial", () => {
    expect(resumeKeyOf("https://cdn.example/a/fw.fw?sig=1")).toBe(
      resumeKeyOf("https://cdn.example/a/fw.fw?sig=2"),
    );
    expect(resumeKeyOf("https://cdn.example/a/fw.fw")).not.toBe(
      resumeKeyOf("https://other.example/a/fw.fw"),
    );
  });
});
