/**
 * The whole-database tests' PostgreSQL schema `tv_whole`: ~30 relations of the shapes a real
 * database has (see whole-db.ts for the names and what a `tv_whole.*` backup must do with each).
 */

/** Small tables small_00…small_11: rows and cursor column by number (0 and 4 and 8 are empty). */
export const SMALL = Array.from({ length: 12 }, (_, k) => ({
  name: `small_${String(k).padStart(2, '0')}`,
  rows: k % 4 === 0 ? 0 : k * 7,
  cursor: (['updated_at', 'modified_at', undefined] as const)[k % 3],
}));

/**
 * Rows of the big table: enough for several batches (export 20,000, restore 50,000 and 10,000
 * streamed, verify 20,000) and two row groups (100,000), few enough for a test.
 */
export const BIG_ROWS = 120_000;

const T0 = "timestamptz '2024-01-01 00:00:00+00'";

function smallTable(s: (typeof SMALL)[number]): string {
  const cursor = s.cursor ? `, ${s.cursor} timestamptz NOT NULL` : '';
  const value = s.cursor ? `, ${T0} + g * interval '1 minute'` : '';
  return `CREATE TABLE ${s.name} (id int PRIMARY KEY, label text NOT NULL${cursor});
    INSERT INTO ${s.name} SELECT g, '${s.name} #' || g${value} FROM generate_series(1, ${s.rows}) g;`;
}

export const PG_SCHEMA = `
DROP SCHEMA IF EXISTS tv_whole CASCADE;
DROP SCHEMA IF EXISTS tv_whole_back CASCADE;
CREATE SCHEMA tv_whole;
CREATE SCHEMA tv_whole_back;
SET search_path = tv_whole;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
${SMALL.map(smallTable).join('\n')}

CREATE TABLE big (id bigint PRIMARY KEY, grp int NOT NULL, amount numeric(12,2), note text, updated_at timestamptz NOT NULL);
INSERT INTO big SELECT g, g % 97, (g * 37 % 100000) / 100.0, CASE WHEN g % 11 = 0 THEN NULL ELSE md5(g::text) END,
  ${T0} + g * interval '1 second' FROM generate_series(1, ${BIG_ROWS}) g;

CREATE TABLE pair_key (tenant int, code text, qty int, updated_at timestamptz, modified_at timestamptz NOT NULL,
  PRIMARY KEY (tenant, code));
INSERT INTO pair_key SELECT g % 5, 'c' || g, g, NULL, ${T0} + (g % 7) * interval '1 hour' FROM generate_series(1, 400) g;

CREATE TABLE triple_key (region char(2), day date, seq smallint, val float8, PRIMARY KEY (region, day, seq));
INSERT INTO triple_key SELECT (ARRAY['eu','us','ap'])[g % 3 + 1], date '2024-01-01' + g / 10, g % 10, g / 3.0
  FROM generate_series(1, 250) g;

CREATE TABLE no_key (x int, y text, updated_at timestamptz NOT NULL DEFAULT ${T0});
INSERT INTO no_key SELECT g % 10, 'dup' FROM generate_series(1, 50) g;
INSERT INTO no_key VALUES (NULL, NULL), (NULL, NULL);

CREATE TABLE no_key_empty (x int, y text);

CREATE TABLE all_types (
  id int PRIMARY KEY, c_bool bool, c_int2 int2, c_int8 int8, c_float4 float4, c_float8 float8,
  c_num numeric(38,10), c_num_any numeric, c_varchar varchar(20), c_char char(3), c_enum mood, c_uuid uuid,
  c_json json, c_jsonb jsonb, c_bytea bytea, c_date date, c_time time, c_ts timestamp, c_tstz timestamptz,
  c_int_arr int4[], c_text_arr text[], c_interval interval, updated_at timestamptz NOT NULL);
INSERT INTO all_types VALUES
 (1, true, -32768, -9223372036854775808, 1.5, -1.7976931348623157e308, -9999999999999999999999999999.9999999999,
  123456789012345678901234567890.123456789, '', 'ab', 'sad', '00000000-0000-0000-0000-000000000000',
  '{"a": [1, 2.5, null]}', '{"k": {"v": "😀"}}', '\\x00ff00', '0001-01-01', '23:59:59.999999',
  '1900-01-01 00:00:00.000001', '1969-12-31 23:59:59.999999+00', '{1,NULL,-3}', '{"a b","c\\"d",NULL,""}',
  '1 day 02:00:00', ${T0}),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, ${T0} + interval '1 day'),
 (3, false, 32767, 9223372036854775807, -0.25, 0.1, 0.0000000001, -0, 'twenty chars exactly', 'xyz', 'happy',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '[]', '{}', '', '9999-12-31', '00:00:00', '2262-04-11 23:47:16.854775',
  '2024-02-29 12:00:00.5-08', '{}', '{}', '-3 years', ${T0} + interval '2 days');

CREATE TABLE events (id int, at date, kind text NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (id, at))
  PARTITION BY RANGE (at);
CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT;
INSERT INTO events SELECT g, date '2023-06-01' + g, 'k' || g % 4, ${T0} + g * interval '1 minute'
  FROM generate_series(1, 900) g;

CREATE VIEW big_by_grp AS SELECT grp, count(*) AS n FROM big GROUP BY grp;
CREATE MATERIALIZED VIEW big_totals AS SELECT count(*) AS n, sum(amount) AS total FROM big;

CREATE TABLE "dotted.name" (id int PRIMARY KEY, v text);
CREATE TABLE "With Space" (id int PRIMARY KEY, v text);
CREATE TABLE "CamelCase" (id int PRIMARY KEY, "MixedCol" text, updated_at timestamptz NOT NULL);
CREATE TABLE camelcase (id int PRIMARY KEY, v text);
CREATE TABLE "quo""te" (id int PRIMARY KEY, v text);
CREATE TABLE "100%_done" (id int PRIMARY KEY, v text);
CREATE TABLE "ünïcødé_表" (id int PRIMARY KEY, "名前" text);
CREATE TABLE "emoji_😀" (id int PRIMARY KEY, v text);
INSERT INTO "dotted.name" VALUES (1, 'a.b'), (2, NULL);
INSERT INTO "With Space" VALUES (1, 'a b');
INSERT INTO "CamelCase" VALUES (1, 'Upper', ${T0}), (2, 'lower', ${T0});
INSERT INTO camelcase VALUES (1, 'not "CamelCase"');
INSERT INTO "quo""te" VALUES (1, '"'), (2, '''');
INSERT INTO "100%_done" VALUES (1, '100%'), (2, '%2E');
INSERT INTO "ünïcødé_表" VALUES (1, 'ü'), (2, '表');
INSERT INTO "emoji_😀" VALUES (1, '😀');

CREATE TABLE tmp_scratch (id int PRIMARY KEY);
INSERT INTO tmp_scratch VALUES (1);
CREATE TABLE audit_log (id int PRIMARY KEY, msg text);
INSERT INTO audit_log VALUES (1, 'left out by the entry');
CREATE TABLE doomed (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT ${T0});
INSERT INTO doomed VALUES (1), (2);
`;
