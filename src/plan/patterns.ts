/**
 * Table patterns: a strategy's `table:` (and `exclude:`) entries, `schema.table` with glob
 * wildcards in either part: `*` (any run of characters, none included), `?` (one character) and
 * `[abc]`/`[a-z]`/`[!abc]` (one of, or none of, a set). A part in double quotes or backticks is
 * literal, wildcards included (`public."rate*"` names the table `rate*`), and its dots do not
 * split. Without a schema, the part is matched in the source's default schema (PostgreSQL's
 * current schema; MySQL's database in the URL).
 */

export interface NamePattern {
  /** The part as written, quotes removed. */
  text: string;
  /** True when it holds no unquoted wildcard: it names one schema or table exactly. */
  exact: boolean;
  /** Characters that must match literally (a specificity measure: more is more specific). */
  literals: number;
  test(name: string): boolean;
}

export interface TablePattern {
  /** As written in the strategy. */
  source: string;
  /** Undefined: the source's default schema. */
  schema?: NamePattern;
  name: NamePattern;
  /** Both parts exact: a table name, not a pattern. */
  exact: boolean;
}

type Token = { lit: string } | { glob: string };

const escapeRe = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

function buildPart(tokens: Token[]): NamePattern {
  let re = '';
  let text = '';
  let literals = 0;
  let exact = true;
  for (const t of tokens) {
    if ('lit' in t) {
      re += escapeRe(t.lit);
      text += t.lit;
      literals += [...t.lit].length;
    } else {
      exact = false;
      text += t.glob;
      if (t.glob === '*') re += '[\\s\\S]*';
      else if (t.glob === '?') re += '[\\s\\S]';
      else {
        const negate = t.glob[1] === '!';
        const body = t.glob.slice(negate ? 2 : 1, -1).replace(/[\\\]^]/g, '\\$&');
        re += `[${negate ? '^' : ''}${body}]`;
      }
    }
  }
  const matcher = new RegExp(`^${re}$`, 'u');
  return { text, exact, literals, test: exact ? (n) => n === text : (n) => matcher.test(n) };
}

/**
 * Parses `schema.table`, `table`, a pattern such as `shop.order_*`, `*.*` or `"odd.name"`.
 * Throws a plain Error saying what is wrong (the caller names the file and entry).
 */
export function parseTablePattern(text: string): TablePattern {
  const s = text.trim();
  if (!s) throw new Error('empty table name');
  const parts: Token[][] = [[]];
  const push = (t: Token) => {
    const cur = parts[parts.length - 1]!;
    const last = cur[cur.length - 1];
    if ('lit' in t && last && 'lit' in last) last.lit += t.lit;
    else cur.push(t);
  };
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote && s[i + 1] === quote) {
        push({ lit: ch });
        i++;
      } else if (ch === quote) quote = undefined;
      else push({ lit: ch });
    } else if (ch === '"' || ch === '`') quote = ch;
    else if (ch === '.') parts.push([]);
    else if (ch === '*' || ch === '?') push({ glob: ch });
    else if (ch === '[') {
      const close = s.indexOf(']', i + 2);
      if (close < 0) throw new Error(`"${text}": "[" opens a set that is never closed; write [abc] or quote the name`);
      push({ glob: s.slice(i, close + 1) });
      i = close;
    } else push({ lit: ch });
  }
  if (quote) throw new Error(`"${text}": a quote is never closed`);
  if (parts.length > 2 || parts.some((p) => p.length === 0))
    throw new Error(`"${text}" is not a table name or pattern: use table, schema.table or a glob such as public.*`);
  const name = buildPart(parts[parts.length - 1]!);
  const schema = parts.length === 2 ? buildPart(parts[0]!) : undefined;
  return { source: text, schema, name, exact: name.exact && (schema?.exact ?? true) };
}

/** Whether the pattern matches `schema.name`; `defaultSchema` stands in for a pattern without a schema. */
export function patternMatches(p: TablePattern, t: { schema: string; name: string }, defaultSchema: string): boolean {
  return (p.schema ? p.schema.test(t.schema) : t.schema === defaultSchema) && p.name.test(t.name);
}

const EXACT_PART = 1_000_000;

/**
 * How specific a pattern is: an exact name beats every pattern; between patterns, an exact schema
 * (or none: the default schema) beats a schema pattern, then more literal characters win.
 */
export function specificity(p: TablePattern): number {
  if (p.exact) return Number.MAX_SAFE_INTEGER;
  const schema = !p.schema || p.schema.exact ? EXACT_PART : p.schema.literals;
  return schema + p.name.literals;
}
