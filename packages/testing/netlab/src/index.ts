export type { SweepResult } from "./cleanup.js";
export { listNamespaces, processRunning, sweepLeakedLabs, tempDirsOwnedBy } from "./cleanup.js";
export type { Dnsmasq, DnsmasqLease, DnsmasqOptions } from "./daemons/dnsmasq.js";
export { startDnsmasq } from "./daemons/dnsmasq.js";
export type { EapUser, Hostapd, HostapdOptions } from "./daemons/hostapd.js";
export { startHostapd } from "./daemons/hostapd.js";
export type { HttpServer, HttpServerOptions } from "./daemons/http-server.js";
export { startHttpServer } from "./daemons/http-server.js";
export type { CertificateAndKey, TestPki, TestPkiOptions } from "./daemons/pki.js";
export { createTestPki } from "./daemons/pki.js";
export type { TcpResponder, TcpResponderOptions } from "./daemons/tcp-responder.js";
export { startTcpResponder } from "./daemons/tcp-responder.js";
export type { UdhcpcLease, UdhcpcOptions } from "./daemons/udhcpc.js";
export { runUdhcpc } from "./daemons/udhcpc.js";
export type { DhcpLease, Udhcpd, UdhcpdOptions } from "./daemons/udhcpd.js";
export { parseUdhcpdLeases, startUdhcpd } from "./daemons/udhcpd.js";
export type {
  WiredNetwork,
  WpaStatus,
  WpaSupplicant,
  WpaSupplicantOptions,
} from "./daemons/wpa-supplicant.js";
export { readWpaStatus, startWpaSupplicant } from "./daemons/wpa-supplicant.js";
export type {
  IntegrationFacts,
  IntegrationSupport,
  IntegrationSupportOptions,
  IntegrationVerdict,
} from "./gating.js";
export {
  evaluateIntegrationSupport,
  integrationRequired,
  integrationSupport,
  integrationVerdict,
} from "./gating.js";
export type { AddressInfo, LinkInfo, RouteInfo } from "./ip-json.js";
export { parseKeyValueLines } from "./ip-json.js";
export type { LabOptions } from "./lab.js";
export { Lab } from "./lab.js";
export type { NamespaceOwner, RouteOptions, RouteQuery } from "./namespace.js";
export { Bridge, Namespace } from "./namespace.js";
export type { NodeChildEvents, SpawnNodeOptions } from "./node-child.js";
export { NodeChild } from "./node-child.js";
export { VethEnd, VethPair } from "./veth.js";
export type { DescribeIntegrationOptions, UseLabOptions } from "./vitest.js";
export { describeIntegration, useLab } from "./vitest.js";
export type { WaitOptions } from "./wait.js";
export { OutputLog, waitFor } from "./wait.js";
