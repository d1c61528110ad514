// Generated from logger-wasm/src/core/protocol.rs: do not edit. Regenerate with
// UPDATE_PROTOCOL_JS=1 cargo test -p tracewire-logger --lib protocol

/** Kinds of queued calls (the first element of each call array). */
export const DEBUG = 0;
export const INFO = 1;
export const WARNING = 2;
export const ERROR = 3;
export const CRITICAL = 4;
export const EXCEPTION = 5;
export const REQUEST = 6;
export const TRACE = 7;
export const USER = 8;
export const DROPPED = 9;
export const ONLINE = 10;
export const FLUSH = 11;
export const ADOPT = 12;
export const VITAL = 13;
export const OUTCOME = 14;
/** The init() options in the order the core reads them. */
export const OPTIONS = ['url', 'batchSize', 'flushIntervalMs', 'dedupWindowMs', 'maxRetries', 'retryDelayMs', 'maxBufferedEntries', 'maxBufferedBytes', 'sampleRate', 'minLevel', 'redactKeys', 'context', 'tab'];
/** Path of the ingest endpoint on the collector. */
export const INGEST_PATH = '/api/v1/logging/logs';
