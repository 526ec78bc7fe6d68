/**
 * Structured JSON logs: one line per event, with a stable `event` name, the component, and
 * fields. Child loggers carry fields of their own (a stream id, a proxy). Messages are built
 * only when their level is on.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';

const ORDER: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, off: 100 };

/** OSM's log level names (MeshConfig `osmLogLevel`) mapped to ours; unknown names give undefined. */
export function parseLogLevel(name: string): LogLevel | undefined {
  const n = name.toLowerCase();
  if (n === 'warning') return 'warn';
  if (n === 'fatal' || n === 'panic' || n === 'critical') return 'error';
  if (n === 'disabled') return 'off';
  return n in ORDER ? (n as LogLevel) : undefined;
}

export type LogFields = Record<string, unknown> & { event?: string };

export interface Logger {
  level(): LogLevel;
  setLevel(level: LogLevel): void;
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
  trace(fields: LogFields, message: string): void;
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

/** Where lines go and what time it is: passed in so tests capture lines with a fixed clock. */
export interface LogSink {
  write(line: string): void;
  now(): Date;
}

export const stderrSink: LogSink = { write: (line) => process.stderr.write(`${line}\n`), now: () => new Date() };

/** Makes a root logger; children share its level. */
export function createLogger(component: string, opts: { level?: LogLevel; sink?: LogSink } = {}): Logger {
  const state = { level: opts.level ?? 'info' };
  return make(state, opts.sink ?? stderrSink, { component });
}

function make(state: { level: LogLevel }, sink: LogSink, base: LogFields): Logger {
  const emit = (level: LogLevel, fields: LogFields, message: string) => {
    if (ORDER[level] < ORDER[state.level]) return;
    sink.write(JSON.stringify({ time: sink.now().toISOString(), level, ...base, ...fields, msg: message }, replaceErrors));
  };
  return {
    level: () => state.level,
    setLevel: (level) => {
      state.level = level;
    },
    child: (fields) => make(state, sink, { ...base, ...fields }),
    enabled: (level) => ORDER[level] >= ORDER[state.level],
    trace: (f, m) => emit('trace', f, m),
    debug: (f, m) => emit('debug', f, m),
    info: (f, m) => emit('info', f, m),
    warn: (f, m) => emit('warn', f, m),
    error: (f, m) => emit('error', f, m),
  };
}

/** Errors serialise as their message and cause chain, never their stack in production lines. */
function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { message: value.message };
    if (value.cause !== undefined) out.cause = value.cause instanceof Error ? value.cause.message : value.cause;
    return out;
  }
  return value;
}
