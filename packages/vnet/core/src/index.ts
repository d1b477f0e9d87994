// The engine

// Plumbing
export type { Clock } from "./clock.js";
export { systemClock } from "./clock.js";
// Configurations and published values
export type {
  AddressInfo,
  ConfigTypes,
  ConnectionStatus,
  InterfaceState,
  JsonObject,
  JsonValue,
  KnownConfig,
  NameServerInfo,
  NetworkConfig,
  NullConfig,
  TypedConfig,
} from "./config.js";
// Connectivity
export type { CheckState, ConnectivityTiming } from "./connectivity/check-logic.js";
export {
  CheckLogic,
  DEFAULT_CONNECTIVITY_TIMING,
} from "./connectivity/check-logic.js";
export { internetCheckerService, lanCheckerService } from "./connectivity/checkers.js";
export type {
  InternetHost,
  ProbeFunction,
  ProbeRequest,
  ProbeResult,
} from "./connectivity/probe.js";
export { DEFAULT_INTERNET_HOSTS, tcpProbe } from "./connectivity/probe.js";
// Name resolution
export type { NameServerEntry, ResolverConfig } from "./dns/resolv-conf.js";
export { mergeNameServers, renderResolvConf } from "./dns/resolv-conf.js";
export type { InfoData, InterfaceInfo } from "./engine/info.js";
export { formatDuration } from "./engine/info.js";
export type {
  ConfigureOptions,
  InfoOptions,
  TrafficReport,
  VintageNetOptions,
} from "./engine/vintage-net.js";
export {
  DEFAULT_PROGRAMS,
  DEFAULT_RESOLV_CONF,
  DEFAULT_SYS_CLASS_NET,
  DEFAULT_TMP_DIR,
  VintageNet,
} from "./engine/vintage-net.js";
export type { AddressFamily } from "./ip/address.js";
export {
  broadcastAddress,
  canonicalIPv4,
  inSubnet,
  isPrefixLength,
  netmaskToPrefix,
  parseAddress,
  parseIPv4,
  parseIPv6,
  prefixToNetmask,
  subnetAddress,
} from "./ip/address.js";
export { dhcpClientService } from "./ipv4/dhcp-client.js";
export type { DhcpOptions } from "./ipv4/dhcp-options.js";
export { parseDhcpOptions } from "./ipv4/dhcp-options.js";
export { dhcpServerService } from "./ipv4/dhcp-server.js";
export type {
  DhcpdConfig,
  DhcpdLease,
  DhcpdOptions,
  NormalizedDhcpdConfig,
} from "./ipv4/dhcpd-config.js";
export {
  DEFAULT_DHCPD_AUTO_TIME,
  dhcpdPaths,
  dhcpdRawConfig,
  normalizeDhcpd,
  parseUdhcpdLeases,
  udhcpdConf,
} from "./ipv4/dhcpd-config.js";
// IPv4 helpers for technologies
export type {
  IPv4Config,
  IPv4DhcpConfig,
  IPv4DisabledConfig,
  IPv4RawConfigOptions,
  IPv4StaticConfig,
  NormalizedIPv4Config,
  NormalizedIPv4Static,
} from "./ipv4/ipv4-config.js";
export { ipv4RawConfig, normalizeIPv4 } from "./ipv4/ipv4-config.js";
export {
  domainField,
  hostnameField,
  Issues as ConfigIssues,
  integerField,
  ipField,
  ipListField,
  ipv4Field,
  isPlainObject,
  rejectUnknownFields,
} from "./ipv4/validate.js";
export type { Dhcpv6Options } from "./ipv6/dhcpv6-client.js";
export { dhcpv6ClientService, parseDhcpv6Options } from "./ipv6/dhcpv6-client.js";
// IPv6 helpers for technologies
export type {
  IPv6Config,
  IPv6Dhcpv6Config,
  IPv6DisabledConfig,
  IPv6RawConfigOptions,
  IPv6RawConfigParts,
  IPv6SlaacConfig,
  IPv6StaticConfig,
  NormalizedIPv6Config,
  NormalizedIPv6Static,
} from "./ipv6/ipv6-config.js";
export { dhclient6Conf, dhcpv6Paths, ipv6RawConfig, normalizeIPv6 } from "./ipv6/ipv6-config.js";
export type { Logger } from "./log.js";
export { consoleLogger, EXTRA_SECRET_KEYS, redactConfig, silentLogger } from "./log.js";
export type { EventChannel } from "./notify/event-channel.js";
export type { EventRecord } from "./notify/script.js";
// Persistence
export type {
  FlatFilePersistenceOptions,
  Persistence,
  PersistenceErrorCode,
  PersistenceKey,
} from "./persistence/persistence.js";
export {
  DEFAULT_PERSISTENCE_DIRECTORY,
  DEFAULT_PERSISTENCE_KEY,
  decodeSavedConfig,
  encodeSavedConfig,
  flatFilePersistence,
  PersistenceError,
} from "./persistence/persistence.js";
export type { PropertyCondition } from "./property-condition.js";
export { matchesPartially } from "./property-condition.js";
export type {
  BuiltInStep,
  Command,
  CustomStep,
  DaemonRestart,
  DaemonSpec,
  DnsClearStep,
  DnsSetStep,
  FileSpec,
  PropertiesDeleteStep,
  RawConfig,
  RawConfigParts,
  RoutesClearStep,
  RoutesSetStep,
  RunCommand,
  RunIgnoringErrorsCommand,
  ServiceSpec,
  StepCommand,
} from "./raw-config.js";
export {
  checkRawConfig,
  DEFAULT_DOWN_COMMAND_MILLIS,
  DEFAULT_RETRY_MILLIS,
  DEFAULT_UP_COMMAND_MILLIS,
  mergeRawConfig,
  rawConfig,
} from "./raw-config.js";
export type { DefaultRouteOwnerOptions } from "./routes/default-route-owner.js";
export { DefaultRouteOwner } from "./routes/default-route-owner.js";
export type { InterfaceKind } from "./routes/metric.js";
export { defaultRouteMetric, interfaceKind, interfaceWeight } from "./routes/metric.js";
// Routes
export type { RouteOwner, RouteOwnerContext } from "./routes/routing.js";
export { bestConnection } from "./routes/routing.js";
export type { NormalizedNullConfig } from "./technologies/null.js";
export { nullTechnology } from "./technologies/null.js";
// The Technology contract and recipes
export type {
  ConnectivityContext,
  InterfaceRouting,
  IoctlContext,
  NameServerControl,
  Programs,
  RoutingControl,
  Service,
  ServiceContext,
  ServiceFactory,
  StepContext,
  StepHandler,
  Subnet,
  SystemCheckContext,
  Technology,
  TechnologyContext,
} from "./technology.js";
export { createTechnologyContext } from "./technology-context.js";
