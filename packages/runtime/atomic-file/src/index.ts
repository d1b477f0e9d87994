export type { EnvelopeErrorCode, EnvelopeFormat } from "./envelope.js";
export { EnvelopeError, openEnvelope, sealEnvelope } from "./envelope.js";
export type { FirstValid, ReadAttempt } from "./read.js";
export { readFirstValid, readFirstValidSync } from "./read.js";
export type { WriteFileAtomicOptions } from "./write.js";
export { fsyncDirectory, writeFileAtomic } from "./write.js";
