// Loads synscope's `analyze --zeek` conn.log files into DuckDB the way Zeek logs are usually
// loaded (read_csv: tab-separated, '#' lines skipped, '-' as NULL, the #fields names and a
// DuckDB type for each #types entry), then joins each with the same capture's `analyze --json`
// lines on community_id. Prints one JSON object per conn.log, for the C++ test to check.
//
//   node load_conn_log.mjs CONN_LOG JSON_LINES [CONN_LOG JSON_LINES ...]
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const duckType = {
  time: 'DOUBLE', interval: 'DOUBLE', addr: 'VARCHAR', port: 'UINTEGER', count: 'UBIGINT', int: 'BIGINT',
  bool: 'BOOLEAN', string: 'VARCHAR', enum: 'VARCHAR', 'set[string]': 'VARCHAR',
};
const quote = (s) => "'" + s.replaceAll("'", "''") + "'";

const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i += 2) {
  const [log, json] = [args[i], args[i + 1]];
  const head = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('#'));
  const fields = head.find((l) => l.startsWith('#fields\t')).split('\t').slice(1);
  const types = head.find((l) => l.startsWith('#types\t')).split('\t').slice(1);
  const columns = fields.map((f, k) => `${quote(f)}: ${quote(duckType[types[k]])}`).join(', ');
  await c.run(`CREATE OR REPLACE TABLE conn AS SELECT * FROM read_csv(${quote(log)}, delim='\\t', header=false,
      comment='#', nullstr='-', quote='', escape='', auto_detect=false, columns={${columns}})`);
  await c.run(`CREATE OR REPLACE TABLE rec AS SELECT json->>'community_id' AS community_id,
      (json->>'first_unix_ns')::BIGINT AS first_ns, json->>'client' AS client,
      (json->>'initial_rtt_us')::DOUBLE AS initial_rtt_us, json->>'conn_state' AS conn_state,
      json->>'history' AS history FROM read_ndjson_objects(${quote(json)}) WHERE json->>'type' = 'connection'`);
  const one = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson()[0];
  const out = { log };
  Object.assign(out, await one(`SELECT count(*) AS rows, count(DISTINCT uid) AS uids,
      sum(syn_count) AS syns, count(*) FILTER (WHERE handshake_complete) AS complete,
      count(*) FILTER (WHERE refused) AS refused, count(initial_rtt) AS with_rtt,
      count(*) FILTER (WHERE "id.resp_h" LIKE '%:%') AS ipv6, sum(orig_pkts + resp_pkts) AS packets FROM conn`));
  out.states = Object.fromEntries((await c.runAndReadAll(
      'SELECT conn_state, count(*) AS n FROM conn GROUP BY conn_state ORDER BY conn_state')).getRowObjectsJson()
      .map((r) => [r.conn_state, Number(r.n)]));
  // The join: every conn.log row meets the JSON record of the same connection through
  // community_id, ts and the client's port, and the handshake figures agree (conn.log's
  // intervals are rounded to the microsecond, as Zeek writes them; the JSON's are to the ns).
  Object.assign(out, await one(`SELECT count(*) AS joined,
      count(*) FILTER (WHERE abs(c.initial_rtt * 1e6 - r.initial_rtt_us) > 0.5005) AS rtt_differ,
      count(*) FILTER (WHERE c.conn_state <> r.conn_state OR c.history <> r.history) AS state_differ
      FROM conn c JOIN rec r ON c.community_id = r.community_id
      AND c.ts = ((r.first_ns + 500) // 1000) / 1e6 AND c."id.orig_p" = split_part(r.client, ':', -1)::UINTEGER`));
  console.log(JSON.stringify(out));
}
