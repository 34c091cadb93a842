import type { ReadText, ValueText } from '../text-forms.js';

/** bytea's text output is `\x` and hex (SESSION_SETTINGS sets bytea_output = 'hex'). */
export const readText: ReadText = { hexBinary: true };

export const valueText: ValueText = {
  trueText: 't',
  falseText: 'f',
  // `… +00` makes the instant explicit
  utcSuffix: '+00',
  minYear: -Infinity,
  maxYear: Infinity,
  yearsNote: '',
  nonFinite: (v) => (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'),
  // an array literal: every element quoted, `"` and `\` escaped, NULL bare
  list: (items) =>
    `{${items.map((c) => (c === null ? 'NULL' : `"${c.replace(/["\\]/g, (x) => `\\${x}`)}"`)).join(',')}}`,
};
