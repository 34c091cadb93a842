import type { ReadText, ValueText } from '../text-forms.js';

/** The text protocol sends binary values as their bytes. */
export const readText: ReadText = { hexBinary: false };

export const valueText: ValueText = {
  trueText: '1',
  falseText: '0',
  // DATETIME takes the text as UTC (the session runs at +00:00)
  utcSuffix: '',
  minYear: 1,
  maxYear: 9999,
  yearsNote: 'MySQL DATE holds 1000-9999',
  nonFinite: (v) =>
    Number.isNaN(v) ? { why: 'NaN (MySQL floats hold no NaN)' } : { why: `${v} (MySQL floats hold no infinities)` },
  // MySQL has no arrays: a JSON array (numbers as numbers, the rest as strings)
  list: (items, numeric) => `[${items.map((c) => (c === null ? 'null' : numeric ? c : JSON.stringify(c))).join(',')}]`,
};
