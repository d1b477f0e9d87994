export type { ValidationIssue } from "./errors.js";
export { DeviceError, errorMessage, fieldPath, ValidationError } from "./errors.js";
export { isSecretField, REDACTED, redactSecrets } from "./redact.js";
