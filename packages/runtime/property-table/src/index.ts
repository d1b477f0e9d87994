export type { Pattern, PatternSegment, PropertyPath } from "./path.js";
export { ANY, checkPath, checkPattern, END, matches } from "./path.js";
export type { PersistenceOptions, SnapshotInfo } from "./persistence.js";
export type {
  PropertyEvent,
  PropertyListener,
  PropertyTableOptions,
  TimestampedValue,
} from "./table.js";
export { PropertyTable } from "./table.js";
