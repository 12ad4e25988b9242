// Validates the manifests in deploy/kubernetes against the Kubernetes API schemas and the
// Prometheus Operator's CRD schemas, without a cluster: each document's model (kubernetes-models,
// @kubernetes-models/prometheus-operator) checks required fields, types and formats, and
// TypeScript checks the same documents against the models' interfaces, which refuses a field
// the API does not have (the schemas alone let unknown fields through, as kubectl's strict
// validation would not). Then it proves it can fail: a copy with a misspelt field and one with
// a wrong type must be refused. Prints a JSON report; exits 1 on any problem.
//
//   node validate_kubernetes.mjs DIR
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import yaml from 'js-yaml';

const here = dirname(fileURLToPath(import.meta.url));
const models = {
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'ConfigMap'],
  'v1/Service': ['kubernetes-models/v1/Service', 'Service'],
  'apps/v1/DaemonSet': ['kubernetes-models/apps/v1/DaemonSet', 'DaemonSet'],
  'monitoring.coreos.com/v1/ServiceMonitor': ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'ServiceMonitor'],
  'monitoring.coreos.com/v1/Probe': ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe', 'Probe'],
};

// Schema and interface problems of `docs` ([{name, doc}]), as strings.
async function problems(docs) {
  const out = [];
  let ts = '';
  for (const [i, { name, doc }] of docs.entries()) {
    const key = `${doc.apiVersion}/${doc.kind}`;
    const model = models[key];
    if (!model) {
      out.push(`${name}: no schema for ${key}`);
      continue;
    }
    const mod = await import(model[0]);
    try {
      new mod[model[1]](doc).validate();
    } catch (e) {
      out.push(`${name}: ${e.message}`);
    }
    ts += `import type { I${model[1]} as T${i} } from '${model[0]}';\nexport const d${i}: T${i} = ${JSON.stringify(doc)};\n`;
  }
  // Beside node_modules, so that the packages resolve as they would for a project of the user's.
  const dir = mkdtempSync(join(here, '.k8s-check-'));
  try {
    writeFileSync(join(dir, 'manifests.mts'), ts);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: true,
        target: 'es2022', types: [] },
      files: ['manifests.mts'] }));
    try {
      execFileSync(join(here, 'node_modules', '.bin', 'tsc'), ['-p', dir], { encoding: 'utf8' });
    } catch (e) {
      for (const line of (e.stdout || String(e)).split('\n')) {
        const m = line.match(/manifests\.mts\((\d+),\d+\): (error .*)/);
        if (m) out.push(`${docs[Math.floor((Number(m[1]) - 1) / 2)]?.name ?? '?'}: ${m[2]}`);
        else if (line.trim() && !m && !line.startsWith(' ')) out.push(`tsc: ${line}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const dir = process.argv[2];
const docs = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  yaml.loadAll(readFileSync(join(dir, file), 'utf8'), (doc) => {
    if (doc) docs.push({ name: `${file}: ${doc.kind}/${doc.metadata?.name}`, doc });
  });
}
const report = { documents: docs.length, kinds: docs.map((d) => d.doc.kind), problems: await problems(docs) };
const ds = docs.find((d) => d.doc.kind === 'DaemonSet');
// What the DaemonSet promises (docs/fleet.md): the node's network, no capability, nothing
// writable, bounded resources, the probe file root's and read-only.
if (ds) {
  const pod = ds.doc.spec.template.spec;
  const c = pod.containers[0];
  const checks = {
    host_network: pod.hostNetwork === true,
    non_root: pod.securityContext?.runAsNonRoot === true && pod.securityContext?.runAsUser > 0,
    no_capabilities: JSON.stringify(c.securityContext?.capabilities) === JSON.stringify({ drop: ['ALL'] }),
    no_escalation: c.securityContext?.allowPrivilegeEscalation === false && c.securityContext?.privileged === false,
    read_only_root: c.securityContext?.readOnlyRootFilesystem === true,
    limits: Boolean(c.resources?.limits?.cpu && c.resources?.limits?.memory),
    probe_config_read_only: pod.volumes.some((v) => v.configMap && (v.configMap.defaultMode & 0o022) === 0) &&
      c.volumeMounts.every((m) => m.readOnly === true),
    no_service_account_token: pod.automountServiceAccountToken === false,
  };
  report.hardening = checks;
  for (const [name, ok] of Object.entries(checks)) if (!ok) report.problems.push(`DaemonSet: ${name} does not hold`);
}
// The validator must be able to fail: a misspelt field, and a wrong type, in the DaemonSet.
if (ds) {
  const misspelt = structuredClone(ds.doc);
  misspelt.spec.template.spec.hostNetwrok = true;
  const wrong = structuredClone(ds.doc);
  wrong.spec.template.spec.containers[0].ports[0].containerPort = 'metrics';
  report.misspelt_refused = (await problems([{ name: 'misspelt', doc: misspelt }])).length > 0;
  report.wrong_type_refused = (await problems([{ name: 'wrong type', doc: wrong }])).length > 0;
}
console.log(JSON.stringify(report, null, 1));
process.exit(report.problems.length === 0 && report.misspelt_refused && report.wrong_type_refused ? 0 : 1);
