/**
 * The whole-database tests' MySQL database `tv_whole`: the PostgreSQL schema's shapes (whole-db-pg.ts)
 * in MySQL's types. Names hold only the Basic Multilingual Plane (MySQL identifiers can hold no more).
 */
import { BIG_ROWS, SMALL } from './whole-db-pg.js';

/** 1…BIG_ROWS, from ten digits crossed into a table once (MariaDB caps a recursive CTE's iterations, MySQL its depth). */
const NUMBERS = `CREATE TABLE tv_whole_back.digits (d INT);
INSERT INTO tv_whole_back.digits VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);
CREATE TABLE tv_whole_back.numbers (n INT PRIMARY KEY);
INSERT INTO tv_whole_back.numbers SELECT n FROM (
  SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * g.d AS n
  FROM tv_whole_back.digits a, tv_whole_back.digits b, tv_whole_back.digits c,
       tv_whole_back.digits e, tv_whole_back.digits f, tv_whole_back.digits g) x WHERE n <= ${BIG_ROWS};`;

const range = (from: number, to: number) => `tv_whole_back.numbers WHERE n BETWEEN ${from} AND ${to}`;

const T0 = "TIMESTAMP'2024-01-01 00:00:00'";

function smallTable(s: (typeof SMALL)[number]): string {
  const cursor = s.cursor ? `, ${s.cursor} DATETIME(6) NOT NULL` : '';
  const value = s.cursor ? `, ${T0} + INTERVAL n MINUTE` : '';
  return `CREATE TABLE ${s.name} (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL${cursor});
    INSERT INTO ${s.name} SELECT n, CONCAT('${s.name} #', n)${value} FROM ${range(1, s.rows)};`;
}

export const MYSQL_SCHEMA = `
DROP DATABASE IF EXISTS tv_whole;
DROP DATABASE IF EXISTS tv_whole_back;
CREATE DATABASE tv_whole CHARACTER SET utf8mb4;
CREATE DATABASE tv_whole_back CHARACTER SET utf8mb4;
${NUMBERS}
USE tv_whole;
${SMALL.map(smallTable).join('\n')}

CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount DECIMAL(12,2), note VARCHAR(40),
  updated_at DATETIME(6) NOT NULL);
INSERT INTO big SELECT n, n % 97, (n * 37 % 100000) / 100, IF(n % 11 = 0, NULL, MD5(n)), ${T0} + INTERVAL n SECOND
  FROM ${range(1, BIG_ROWS)};

CREATE TABLE pair_key (tenant INT, code VARCHAR(20), qty INT, updated_at DATETIME(6) NULL,
  modified_at DATETIME(6) NOT NULL, PRIMARY KEY (tenant, code));
INSERT INTO pair_key SELECT n % 5, CONCAT('c', n), n, NULL, ${T0} + INTERVAL n % 7 HOUR FROM ${range(1, 400)};

CREATE TABLE triple_key (region CHAR(2), day DATE, seq SMALLINT, val DOUBLE, PRIMARY KEY (region, day, seq));
INSERT INTO triple_key SELECT ELT(n % 3 + 1, 'eu', 'us', 'ap'), DATE'2024-01-01' + INTERVAL n DIV 10 DAY, n % 10, n / 3
  FROM ${range(1, 250)};

CREATE TABLE no_key (x INT, y VARCHAR(10), updated_at DATETIME(6) NOT NULL DEFAULT '2024-01-01 00:00:00');
INSERT INTO no_key (x, y) SELECT n % 10, 'dup' FROM ${range(1, 50)};
INSERT INTO no_key (x, y) VALUES (NULL, NULL), (NULL, NULL);

CREATE TABLE no_key_empty (x INT, y TEXT);

CREATE TABLE all_types (
  id INT PRIMARY KEY, c_bool TINYINT(1), c_utiny TINYINT UNSIGNED, c_medium MEDIUMINT, c_uint INT UNSIGNED,
  c_ubig BIGINT UNSIGNED, c_float FLOAT, c_double DOUBLE, c_dec DECIMAL(38,10), c_char CHAR(3), c_varchar VARCHAR(50),
  c_text TEXT, c_enum ENUM('a','b','c'), c_set SET('x','y'), c_json JSON, c_binary BINARY(4), c_blob BLOB,
  c_date DATE, c_time TIME(6), c_datetime DATETIME(6), c_timestamp TIMESTAMP(6) NULL DEFAULT NULL, c_year YEAR,
  updated_at DATETIME(6) NOT NULL) CHARACTER SET utf8mb4;
INSERT INTO all_types VALUES
 (1, 1, 255, -8388608, 4294967295, 18446744073709551615, 1.5, -1.7976931348623157e308,
  -9999999999999999999999999999.9999999999, 'ab', '', 'héllo 😀 tab\\tand\\nnewline', 'a', 'x,y', '{"a": [1, 2.5, null]}',
  X'00FF0000', X'0001FF00', '1000-01-01', '12:34:56.789000', '1000-01-01 00:00:00.000001',
  '1970-01-01 00:00:01.000000', 1901, ${T0}),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, ${T0} + INTERVAL 1 DAY),
 (3, 0, 0, 8388607, 0, 0, -0.25, 0.1, 0.0000000001, 'xyz', 'fifty', '', 'c', '', '[]', X'00000000', X'',
  '9999-12-31', '23:59:59.999999', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155,
  ${T0} + INTERVAL 2 DAY);

CREATE TABLE events (id INT, at DATE, kind VARCHAR(10) NOT NULL, updated_at DATETIME(6) NOT NULL, PRIMARY KEY (id, at))
  PARTITION BY RANGE COLUMNS (at) (
    PARTITION p2023 VALUES LESS THAN ('2024-01-01'),
    PARTITION p2024 VALUES LESS THAN ('2025-01-01'),
    PARTITION prest VALUES LESS THAN (MAXVALUE));
INSERT INTO events SELECT n, DATE'2023-06-01' + INTERVAL n DAY, CONCAT('k', n % 4), ${T0} + INTERVAL n MINUTE
  FROM ${range(1, 900)};

CREATE VIEW big_by_grp AS SELECT grp, count(*) AS n FROM big GROUP BY grp;

CREATE TABLE \`dotted.name\` (id INT PRIMARY KEY, v TEXT);
CREATE TABLE \`With Space\` (id INT PRIMARY KEY, v TEXT);
CREATE TABLE \`CamelCase\` (id INT PRIMARY KEY, \`MixedCol\` TEXT, updated_at DATETIME(6) NOT NULL);
CREATE TABLE \`quo"te\` (id INT PRIMARY KEY, v TEXT);
CREATE TABLE \`back\`\`tick\` (id INT PRIMARY KEY, v TEXT);
CREATE TABLE \`100%_done\` (id INT PRIMARY KEY, v TEXT);
CREATE TABLE \`ünïcødé_表\` (id INT PRIMARY KEY, \`名前\` TEXT);
INSERT INTO \`dotted.name\` VALUES (1, 'a.b'), (2, NULL);
INSERT INTO \`With Space\` VALUES (1, 'a b');
INSERT INTO \`CamelCase\` VALUES (1, 'Upper', ${T0}), (2, 'lower', ${T0});
INSERT INTO \`quo"te\` VALUES (1, '"'), (2, '''');
INSERT INTO \`back\`\`tick\` VALUES (1, '\`');
INSERT INTO \`100%_done\` VALUES (1, '100%'), (2, '%2E');
INSERT INTO \`ünïcødé_表\` VALUES (1, 'ü'), (2, '表');

CREATE TABLE tmp_scratch (id INT PRIMARY KEY);
INSERT INTO tmp_scratch VALUES (1);
CREATE TABLE audit_log (id INT PRIMARY KEY, msg TEXT);
INSERT INTO audit_log VALUES (1, 'left out by the entry');
CREATE TABLE doomed (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL DEFAULT '2024-01-01 00:00:00');
INSERT INTO doomed (id) VALUES (1), (2);
`;
