import { ValidationError } from "@runtime/errors";
import { describe, expect, it } from "vitest";
import { checkLocations } from "../src/fw-env-config.js";
import { formatFwEnvConfig, parseFwEnvConfig } from "../src/index.js";

function parseError(text: string): ValidationError {
  try {
    parseFwEnvConfig(text, "/etc/fw_env.config");
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("parseFwEnvConfig", () => {
  it("reads a typical Nerves single-copy line (sector columns ignored)", () => {
    expect(parseFwEnvConfig("/dev/mmcblk0 0x100000 0x2000 0x200 16\n")).toEqual({
      locations: [{ path: "/dev/mmcblk0", offset: 0x100000, size: 0x2000 }],
      layout: "single",
      warnings: [],
    });
  });

  it("reads two lines as a redundant environment, with comments, blank lines and tabs", () => {
    const text = [
      "# Device  offset  size",
      "",
      "   # an indented comment with many words in it",
      "/dev/mmcblk0\t0x100000\t0x20000",
      "   ",
      "/dev/mmcblk0   0x120000    0x20000   0x200   256   extra columns",
    ].join("\n");
    expect(parseFwEnvConfig(text)).toMatchObject({
      layout: "redundant",
      locations: [
        { path: "/dev/mmcblk0", offset: 0x100000, size: 0x20000 },
        { path: "/dev/mmcblk0", offset: 0x120000, size: 0x20000 },
      ],
    });
  });

  it("reads numbers exactly as fw_printenv does: offset base 0, size always hexadecimal", () => {
    // Checked against libubootenv's fw_printenv on this machine (see the integration tests).
    const parsed = parseFwEnvConfig("/dev/x 4096 2000\n/dev/x 010 0X2000\n");
    expect(parsed.locations.map((location) => [location.offset, location.size])).toEqual([
      [4096, 0x2000],
      [8, 0x2000],
    ]);
    expect(parsed.warnings).toEqual([
      'fw_env.config:1: size "2000" has no 0x prefix and is read as hexadecimal 0x2000 (8192 bytes), as fw_printenv reads it',
    ]);
  });

  it("accepts CRLF line endings", () => {
    expect(parseFwEnvConfig("/dev/x 0x0 0x2000\r\n").locations).toEqual([
      { path: "/dev/x", offset: 0, size: 0x2000 },
    ]);
  });

  it.each([
    ["", "must have one (single) or two (redundant) data lines"],
    ["# only comments\n", "must have one (single) or two (redundant) data lines"],
    ["/dev/a 0 0x2000\n/dev/b 0 0x2000\n/dev/c 0 0x2000\n", "must have one (single) or two"],
    ["/dev/mmcblk0 0x100000\n", "needs at least <device> <offset> <size>"],
    ["/dev/mmcblk0 zero 0x2000\n", "offset must be a number"],
    ["/dev/mmcblk0 08 0x2000\n", "offset must be a number"],
    ["/dev/mmcblk0 0 0xZZ\n", "size must be a hexadecimal number"],
    ["/dev/mmcblk0 0 0x4\n", "size must be at least 8 bytes"],
    ["/dev/a 0 0x2000\n/dev/a 0x4000 0x4000\n", "both copies of a redundant environment"],
  ])("refuses %j: %s", (text, reason) => {
    const error = parseError(text);
    expect(error.code).toBe("ENV_CONFIG_INVALID");
    expect(error.reason).toContain(reason);
  });

  it("names the file and line of a bad line", () => {
    const error = parseError("# header\n/dev/mmcblk0 0x100000\n");
    expect(error.path).toBe("/etc/fw_env.config:2");
    expect(error.message).toContain("/etc/fw_env.config:2");
  });

  it("refuses a redundant config with one bad line instead of silently using one copy", () => {
    const error = parseError("/dev/mmcblk0 0x100000 0x2000\n/dev/mmcblk0 0x10x000 0x2000\n");
    expect(error.path).toBe("/etc/fw_env.config:2");
  });

  it("formats locations that parse back", () => {
    const text = formatFwEnvConfig([
      { path: "/tmp/a.img", offset: 0, size: 0x2000 },
      { path: "/tmp/a.img", offset: 0x2000, size: 0x2000 },
    ]);
    expect(text).toBe("/tmp/a.img 0x0 0x2000\n/tmp/a.img 0x2000 0x2000\n");
  });
});

describe("checkLocations", () => {
  it("returns the layout", () => {
    expect(checkLocations([{ path: "/a", offset: 0, size: 64 }])).toBe("single");
    expect(
      checkLocations([
        { path: "/a", offset: 0, size: 64 },
        { path: "/a", offset: 64, size: 64 },
      ]),
    ).toBe("redundant");
  });

  it("names the bad field", () => {
    try {
      checkLocations([{ path: "/a", offset: -1, size: 4 }]);
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
        "locations[0].offset",
        "locations[0].size",
      ]);
    }
    expect(() => checkLocations([])).toThrow(/one \(single\) or two/);
  });
});
