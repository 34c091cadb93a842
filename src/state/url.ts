import { inputError } from '../errors.js';

/** What a strategy file says about where state lives. */
export interface StateSettings {
  state?: string;
  source: string;
}

/**
 * Which state store a command uses: `--state` beats `state:` in the strategy file, which beats
 * the strategy's source database. The strategy may be given as a function so it is loaded only
 * when `--state` is absent (`migrate --state url file.yaml` does not need the file to load).
 * @example
 * ```ts
 * const url = stateUrl(flags.state, () => loadStrategy(file));
 * ```
 */
export function stateUrl(flag: string | undefined, strategy?: StateSettings | (() => StateSettings)): string {
  // an empty --state (an unset variable in `--state "$URL"`) fails as a bad URL rather than quietly meaning the source database
  if (flag !== undefined) return flag;
  const s = typeof strategy === 'function' ? strategy() : strategy;
  if (!s) throw inputError('STATE_URL', 'give a strategy file or --state <url>');
  return s.state ?? s.source;
}
