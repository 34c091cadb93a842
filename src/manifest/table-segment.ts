import { inputError } from '../errors.js';

/**
 * A table's folder in object keys: one key segment, `<schema>.<table>`, from which the names can
 * be read back. A name is kept as it is when it is plain: only ASCII letters (either case), digits,
 * `_`, `-` and `$`, the characters of an unquoted identifier. Every other character is written as
 * the bytes of its UTF-8, each `%` and two uppercase hex digits: `.` is `%2E`, `/` `%2F`, `%`
 * `%25`, a space `%20`, `é` `%C3%A9`.
 *
 * So the one unencoded `.` in a segment is the one between schema and table, a segment never holds
 * a `/` and is never `.` or `..`, and two tables never share one: `public."a.b"` is `public.a%2Eb`,
 * schema `public.a` table `b` is `public%2Ea.b`, and a table named `../../evil` is
 * `public.%2E%2E%2F%2E%2E%2Fevil`. Plain names, by far the most common, keep the keys they had
 * before names were encoded (`public.orders`).
 */

const PLAIN = /^[A-Za-z0-9_$-]$/;
const HEX = '0123456789ABCDEF';
const utf8 = new TextEncoder();

/** One schema or table name as it appears in a key segment. */
export function encodeName(name: string): string {
  let out = '';
  for (const ch of name) {
    if (PLAIN.test(ch)) {
      out += ch;
      continue;
    }
    // a lone UTF-16 surrogate has no UTF-8; no database returns one, but it must not be lost silently
    if (ch.length === 1 && ch >= '\uD800' && ch <= '\uDFFF')
      throw inputError('TABLE_NAME', `name ${JSON.stringify(name)} is not valid Unicode (it holds a lone surrogate)`);
    for (const b of utf8.encode(ch)) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** `{ schema, name }` → its key segment, e.g. `public.orders` or `public.a%2Eb`. */
export function encodeTableSegment(table: { schema: string; name: string }): string {
  if (table.schema === '' || table.name === '')
    throw inputError(
      'TABLE_NAME',
      `table ${JSON.stringify(table.schema)}.${JSON.stringify(table.name)} has an empty schema or name; name both`,
    );
  return `${encodeName(table.schema)}.${encodeName(table.name)}`;
}

/** A key segment → the schema and name it encodes; fails on any segment `encodeTableSegment` does not write. */
export function decodeTableSegment(segment: string): { schema: string; name: string } {
  const parts = segment.split('.');
  const [schema, name] = parts.length === 2 ? parts.map(decodeName) : [];
  if (schema === undefined || name === undefined || schema === '' || name === '')
    throw inputError(
      'DEST_URL',
      `"${segment}" is not a table's folder: expected <schema>.<table>, each name percent-encoded as README "Object keys" says`,
    );
  return { schema, name };
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** The name an encoded name stands for, or undefined when `encodeName` would not have written it. */
function decodeName(encoded: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length;) {
    const ch = encoded[i]!;
    if (ch === '%') {
      const hex = encoded.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (PLAIN.test(ch)) {
      bytes.push(ch.charCodeAt(0));
      i += 1;
    } else return undefined;
  }
  let name: string;
  try {
    name = utf8Strict.decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
  // one spelling per name: `%41` for `A`, say, is refused, so segment and name map one to one
  return encodeName(name) === encoded ? name : undefined;
}
