// The module custom backends import as 'phone-verify': the backend contract and its types.
export {
  type BackendLogger,
  BaseBackend,
  type BulkSmsOutcome,
  type MessageContext,
  type SecurityCodeStatus,
} from './backends/base.js';
