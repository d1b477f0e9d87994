import { describe, expect, it } from "vitest";
import {
  assertInterfaceName,
  labId,
  namespaceName,
  namespaceOwnerPid,
  processAlive,
  tempDirOwnerPid,
  tempDirPrefix,
} from "../src/naming.js";

describe("namespace names", () => {
  it("carry the owner PID and a per-process lab number", () => {
    const name = namespaceName(labId(4242, 7), "server");
    expect(name).toBe("nl4242x7-server");
    expect(namespaceOwnerPid(name)).toBe(4242);
  });

  it("are not claimed when they are somebody else's", () => {
    for (const name of ["server", "nl-foo", "nlx1-a", "nl12-a", "docker-1", "nl12x3"]) {
      expect(namespaceOwnerPid(name)).toBeUndefined();
    }
  });

  it("reject roles that would make odd or long names", () => {
    for (const role of ["", "Server", "a b", "a/b", "x".repeat(17), "-x"]) {
      expect(() => namespaceName("nl1x1", role)).toThrow(TypeError);
    }
    expect(namespaceName("nl1x1", "client_2")).toBe("nl1x1-client_2");
  });
});

describe("temp dir names", () => {
  it("carry the owner PID and a readable label", () => {
    const prefix = tempDirPrefix(99, "DHCP lease / veth");
    expect(prefix).toBe("netlab-99-dhcp-lease-veth-");
    expect(tempDirOwnerPid(`${prefix}Ab12Cd`)).toBe(99);
    expect(tempDirOwnerPid("netlab-notapid-x")).toBeUndefined();
  });
});

describe("assertInterfaceName", () => {
  it("accepts Linux interface names and rejects the rest", () => {
    for (const name of ["eth0", "br-lan", "wlan0.100", "x".repeat(15)]) {
      expect(() => assertInterfaceName(name)).not.toThrow();
    }
    for (const name of ["", "x".repeat(16), "a/b", "a b", "a:1", ".", ".."]) {
      expect(() => assertInterfaceName(name)).toThrow(TypeError);
    }
  });
});

describe("processAlive", () => {
  it("sees this process and not an impossible PID", () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 1)).toBe(false);
  });
});
