/**
 * Settings that make PostgreSQL's text format unambiguous, for every session that reads or writes
 * it (export reads, verify's checksums, restore's COPY FROM): UTC instants, ISO dates, ISO 8601
 * intervals, shortest exact floats, hex bytea, UTF-8, standard strings.
 */
export const SESSION_SETTINGS = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'iso_8601'",
  'SET extra_float_digits = 1',
  "SET bytea_output = 'hex'",
  "SET client_encoding = 'UTF8'",
  'SET standard_conforming_strings = on',
];
