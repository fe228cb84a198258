// A small logger that writes one human-readable line per event, with key=value context, so that
// `npm start` output stays readable at 3 a.m. and greppable in production.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(scope: string): Logger;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

export function createLogger(level: LogLevel = 'info', scope = 'tributary'): Logger {
  const write = (at: LogLevel, message: string, fields?: LogFields): void => {
    if (order[at] < order[level]) return;
    const context = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => ` ${k}=${formatValue(v)}`)
          .join('')
      : '';
    const line = `${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} [${scope}] ${message}${context}\n`;
    (at === 'error' || at === 'warn' ? process.stderr : process.stdout).write(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (childScope) => createLogger(level, `${scope}:${childScope}`),
  };
}

/** For tests and library use where nothing should be printed. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
