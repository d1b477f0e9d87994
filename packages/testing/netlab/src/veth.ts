import type { LinkInfo } from "./ip-json.js";
import type { Namespace } from "./namespace.js";

/** One end of a veth pair. */
export class VethEnd {
  constructor(
    readonly namespace: Namespace,
    readonly ifname: string,
  ) {}

  /** Sets this end up; the peer regains carrier (LOWER_UP) if it is up too. */
  up(): Promise<void> {
    return this.namespace.setLink(this.ifname, "up");
  }

  /** Sets this end down: the peer loses carrier (`lowerUp` false), like an unplugged cable. */
  down(): Promise<void> {
    return this.namespace.setLink(this.ifname, "down");
  }

  info(): Promise<LinkInfo> {
    return this.namespace.linkInfo(this.ifname);
  }
}

/** A veth pair between two namespaces, created by `lab.veth()`. */
export class VethPair {
  readonly a: VethEnd;
  readonly b: VethEnd;

  constructor(aNamespace: Namespace, aName: string, bNamespace: Namespace, bName: string) {
    this.a = new VethEnd(aNamespace, aName);
    this.b = new VethEnd(bNamespace, bName);
  }

  /**
   * Deletes both ends (deleting one end of a veth deletes its peer), e.g. to simulate unplugging a
   * USB adapter. Already deleted is fine. `lab.veth()` with the same names creates it again.
   */
  async delete(): Promise<void> {
    const result = await this.a.namespace.ip(["link", "del", "dev", this.a.ifname], {
      allowFailure: true,
    });
    if (result.exitCode !== 0 && !/Cannot find device|does not exist/.test(result.stderr)) {
      throw new Error(`deleting veth ${this.a.ifname}: ${result.stderr.trim()}`);
    }
  }
}
