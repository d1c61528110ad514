// Types of @tracewire/logger.

/** Options of {@link init}; every field is optional except `endpoint` and `key`. */
export interface InitOptions {
  /** Collector base URL, e.g. `https://logs.example.com` (or the full ingest URL). */
  endpoint: string;
  /** Ingest key of the project (sent as `?key=`). */
  key: string;
  /** A batch is sent when this many distinct entries are queued. Default 10. */
  batchSize?: number;
  /** …or when this much time has passed. Default 5000. */
  flushIntervalMs?: number;
  /** Identical entries within this window collapse into one with `dedup_count`. Default 10000. */
  dedupWindowMs?: number;
  /** Failed sends before a batch rests in the offline buffer (it is never dropped). Default 3. */
  maxRetries?: number;
  /** Base of the exponential backoff with jitter. Default 1000. */
  retryDelayMs?: number;
  /** Keep unsent batches in localStorage across page loads. Default true. */
  offlineStorage?: boolean;
  /** Bound of the offline buffer in entries (oldest evicted first, and counted). Default 5000. */
  maxBufferedEntries?: number;
  /** Bound of the offline buffer in bytes. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Origins (exact strings) or RegExps of URLs that get `traceparent`. Default: same origin. */
  propagateTo?: Array<string | RegExp>;
  /** Log the app's fetch/XHR calls and add trace headers. Default true. */
  instrumentFetch?: boolean;
  /** Capture window errors and unhandled rejections. Default true. */
  captureErrors?: boolean;
  /** Send the page load's web vitals (LCP, INP, CLS, FCP, TTFB) as metrics. Default true. */
  webVitals?: boolean;
  /** Logs below this level are ignored. Default "DEBUG". */
  minLevel?: 'DEBUG' | 'INFO' | 'WARNING' | 'WARN' | 'ERROR' | 'CRITICAL' | 'FATAL' | Lowercase<'DEBUG' | 'INFO' | 'WARNING' | 'WARN' | 'ERROR' | 'CRITICAL' | 'FATAL'>;
  /** Fraction of log entries kept (exceptions always kept); drops are counted. Default 1. */
  sampleRate?: number;
  /** Key names redacted in addition to password, token, secret, api_key, authorization, cookie… */
  redactKeys?: string[];
  /** `userId` plus fields attached to every entry. */
  context?: { userId?: string; [field: string]: unknown };
  /** Where the .wasm file is, for setups that move it (URL, Response or bytes). */
  wasm?: string | URL | Response | BufferSource;
}

/** Structured fields of one entry (`extra_data`); sensitive keys are redacted. */
export type Fields = Record<string, unknown>;

/** Loads the module and starts sending; calls made before it resolves are queued. */
export function init(options: InitOptions): Promise<void>;
export function debug(message: string, fields?: Fields): void;
export function info(message: string, fields?: Fields): void;
export function warn(message: string, fields?: Fields): void;
export function error(message: string, fields?: Fields): void;
export function critical(message: string, fields?: Fields): void;
/** Records an exception with its stack trace and optional context fields. */
export function captureException(error: unknown, context?: Fields): void;
/** Attaches a user id to later entries; `null` clears it. */
export function setUser(id: string | null): void;
/** Starts a new trace; returns its 32-hex id. */
export function newTrace(): string;
/** `traceparent` (fresh span) and `x-trace-id` for a request the patch does not see. */
export function traceHeaders(): { traceparent: string; 'x-trace-id': string };
/** Sends what is queued; resolves when nothing more can be sent now. Never rejects. */
export function flush(): Promise<void>;
/** Flushes and stops; unsent batches stay stored for the next page load. */
export function shutdown(): Promise<void>;
/** Batches not yet acknowledged by the collector. */
export function pendingBatches(): number;

declare const logger: {
  init: typeof init; debug: typeof debug; info: typeof info; warn: typeof warn; error: typeof error;
  critical: typeof critical; captureException: typeof captureException; setUser: typeof setUser;
  newTrace: typeof newTrace; traceHeaders: typeof traceHeaders; flush: typeof flush;
  shutdown: typeof shutdown; pendingBatches: typeof pendingBatches;
};
export default logger;
