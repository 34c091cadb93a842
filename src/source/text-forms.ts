/**
 * How an engine spells values as text, where engines differ. Each engine folder gives both forms
 * (`<engine>/text.ts`), so the converters in src/arrow/ and src/restore/ stay engine-neutral and
 * their hot loops read a field instead of comparing engine names.
 */

/** The source's text protocol, as the text builders parse it (src/arrow/). */
export interface ReadText {
  /** Binary values come as `\x` and hex digits (PostgreSQL's bytea text), not as their raw bytes. */
  readonly hexBinary: boolean;
}

/** The engine's input syntax for values, as a restore loads them (before any quoting or COPY escaping). */
export interface ValueText {
  readonly trueText: string;
  readonly falseText: string;
  /** Appended to a timestamptz written in UTC. */
  readonly utcSuffix: string;
  /** A date outside these years cannot be stored; `yearsNote` says so in the message. */
  readonly minYear: number;
  readonly maxYear: number;
  readonly yearsNote: string;
  /** A NaN or an infinity as text, or why the engine cannot store it. */
  nonFinite(v: number): string | { why: string };
  /** A list from its elements' texts (none Unrepresentable); `numeric`: the elements are numbers. */
  list(items: Array<string | null>, numeric: boolean): string;
}
