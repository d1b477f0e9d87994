/**
 * Test helpers for code built on `@vnet/core` (technologies, applications). Import from
 * `@vnet/core/testing`.
 */
export type {
  EngineChildOptions,
  EngineReply,
  NodeChildHandle,
  NodeSpawner,
  PropertyChange,
  TechnologyModule,
} from "./testing/engine-in-namespace.js";
export { ENGINE_CHILD_MODULE, EngineInNamespace } from "./testing/engine-in-namespace.js";
export { FakeClock, flushPromises } from "./testing/fake-clock.js";
