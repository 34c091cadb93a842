import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import { redactText } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable output; defaults to whether stderr is a TTY. */
  pretty?: boolean;
}

/** pino to stderr (stdout is for results). Every message and string field passes through redaction. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.TABLEVAULT_LOG_LEVEL ?? 'info';
  const usePretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    redact: {
      paths: ['password', '*.password', 'secretAccessKey', '*.secretAccessKey', 'url', '*.url'],
      censor: '***',
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  // pino-pretty only when a person reads the logs: unattended runs do not load it
  const dest = usePretty
    ? loadPretty()({ destination: 2, colorize: true, sync: true })
    : pino.destination({ fd: 2, sync: true });
  return pino(options, dest);
}

type PrettyFactory = (opts: { destination: number; colorize: boolean; sync: boolean }) => pino.DestinationStream;

function loadPretty(): PrettyFactory {
  const mod = createRequire(import.meta.url)('pino-pretty') as PrettyFactory & { default?: PrettyFactory };
  return mod.default ?? mod;
}

/** A logger that discards everything, for library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
