import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DeviceError,
  errorMessage,
  fieldPath,
  isSecretField,
  REDACTED,
  redactSecrets,
  ValidationError,
} from "../src/index.js";

describe("ValidationError", () => {
  it("names the field, the value and the reason", () => {
    const error = new ValidationError({
      path: "ipv4.address",
      value: "300.1.1.1",
      reason: "must be an IPv4 address",
    });
    expect(error).toBeInstanceOf(DeviceError);
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.path).toBe("ipv4.address");
    expect(error.value).toBe("300.1.1.1");
    expect(error.message).toBe('ipv4.address: must be an IPv4 address (got "300.1.1.1")');
  });

  it("never carries the value of a secret field", () => {
    const error = new ValidationError([
      { path: "networks[0].psk", value: "hunter2", reason: "must be 8 to 63 characters" },
      { path: "networks[0].ssid", value: "", reason: "must not be empty" },
    ]);
    expect(error.value).toBe(REDACTED);
    expect(error.message).not.toContain("hunter2");
    expect(JSON.stringify(error.issues)).not.toContain("hunter2");
    expect(error.message).toContain("(and 1 more)");
  });

  it("accepts a custom code and refuses no issues", () => {
    expect(new ValidationError({ path: "", value: 1, reason: "r" }, "BAD").code).toBe("BAD");
    expect(() => new ValidationError([])).toThrow(TypeError);
  });
});

describe("errorMessage", () => {
  it("gives an Error's message (subclasses too) and anything else as text", () => {
    expect(errorMessage(new Error("disk full"))).toBe("disk full");
    expect(errorMessage(new DeviceError("TIMEOUT", "no answer"))).toBe("no answer");
    expect(errorMessage("plain string")).toBe("plain string");
    expect(errorMessage(42)).toBe("42");
    expect(errorMessage(undefined)).toBe("undefined");
  });
});

describe("fieldPath", () => {
  it("joins names and indexes", () => {
    expect(fieldPath("networks", 0, "psk")).toBe("networks[0].psk");
    expect(fieldPath("ipv4", "address")).toBe("ipv4.address");
    expect(fieldPath(2, "x")).toBe("[2].x");
  });
});

describe("redactSecrets", () => {
  it("replaces secrets at any depth and leaves the rest", () => {
    const config = {
      type: "wifi",
      vintage_net_wifi: {
        key_mgmt: "wpa_psk",
        networks: [{ ssid: "home", psk: "hunter2", identity: "me", password: "pw" }],
      },
      hub: { shared_secret: "s3", productKey: "pk" },
      tls: { privateKey: Buffer.from("---KEY---"), cert: "public" },
    };
    const redacted = redactSecrets(config);
    expect(JSON.stringify(redacted)).not.toMatch(/hunter2|"pw"|s3|---KEY---/);
    expect(redacted.vintage_net_wifi.key_mgmt).toBe("wpa_psk");
    expect(redacted.vintage_net_wifi.networks[0]!.ssid).toBe("home");
    expect(redacted.hub.productKey).toBe("pk");
    expect(redacted.tls.cert).toBe("public");
    expect(config.vintage_net_wifi.networks[0]!.psk).toBe("hunter2");
  });

  it("keeps absent secrets visible as absent and handles cycles", () => {
    const looped: Record<string, unknown> = { psk: null };
    looped.self = looped;
    expect(redactSecrets(looped)).toEqual({ psk: null, self: "[circular]" });
  });

  it("takes extra secret names", () => {
    expect(redactSecrets({ ca_pin: "x" }, { extraKeys: ["ca-pin"] })).toEqual({ ca_pin: REDACTED });
    expect(isSecretField("KEY_MGMT")).toBe(false);
    expect(isSecretField("Pre-Shared-Key", ["preshared_key"])).toBe(true);
  });

  it("never leaks a planted secret, whatever the shape around it", () => {
    const secret = "S3cr3t-planted";
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.constant(1),
        fc.string(),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom("a", "ssid", "type"), tie("node"), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(
        tree,
        fc.constantFrom("psk", "password", "shared_secret", "private_key"),
        (t, key) => {
          const value = { wrapper: [t, { [key]: secret }], [key]: secret };
          expect(JSON.stringify(redactSecrets(value))).not.toContain(secret);
        },
      ),
    );
  });
});
