import { pino, type Logger } from 'pino';

/** The root logger; modules take `logger.child({ mod: '<name>' })`. Tokens are never logged. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'channeld' }, redact: { paths: ['token', '*.token'], censor: '[token]' } });
}
