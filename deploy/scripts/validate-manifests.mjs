#!/usr/bin/env node
// Static checks of deploy/ without a cluster, Docker or npm packages (run by check.sh):
//   - every YAML (deploy/**, docker-compose.yml) parses (python3 + PyYAML; without them only a
//     tab / reference lint runs, with a warning), every JSON parses;
//   - kustomizations: resources, components, patch files and generator files exist;
//   - metric names: every tpserve_* name in the rules, the dashboard and the HPA is one of
//     libs/metrics/src/metric-names.ts (histograms may add _bucket/_sum/_count), and every
//     recording rule used is defined;
//   - alerts: a severity, a summary, and a runbook anchor that docs/deploy.md has;
//   - dashboard: unique panel ids, an expr on every target, the ${datasource} variable;
//   - rendered manifests (--rendered FILE, from `kubectl kustomize`): TPSERVE_TP equals the
//     nvidia.com/gpu limit, probes on /health and /ready, memory-backed /dev/shm, non-root,
//     read-only model mount, the ConfigMap it reads is in the same render.
// Usage: node deploy/scripts/validate-manifests.mjs [--rendered FILE ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rel = (p) => relative(root, p);
const failures = [];
let numPassed = 0;

function check(ok, what) {
  if (ok) numPassed += 1;
  else failures.push(what);
  return ok;
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

// --- YAML through PyYAML (safe_load_all), all files in one python3 process ---
const PY_LOADER = `
import json, sys
try:
    import yaml
except ImportError:
    sys.exit(3)
out = {}
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            out[path] = {"docs": [d for d in yaml.safe_load_all(f)]}
    except Exception as e:
        out[path] = {"error": str(e).replace("\\n", " ")}
json.dump(out, sys.stdout, default=str)
`;

function loadYaml(files) {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', PY_LOADER, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status === 0) return JSON.parse(r.stdout);
  }
  return undefined;
}

function lintYamlWithoutParser(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const bad = lines.findIndex((l) => /^\s*\t/.test(l));
  check(bad < 0, `${rel(file)}:${bad + 1}: tab in indentation`);
}

// --- kustomization references ---
function checkKustomization(file, doc) {
  const dir = dirname(file);
  const refs = [
    ...(doc.resources ?? []),
    ...(doc.components ?? []),
    ...(doc.patches ?? []).filter((p) => p.path).map((p) => p.path),
    ...(doc.patchesStrategicMerge ?? []),
    ...(doc.configMapGenerator ?? []).flatMap((g) => [...(g.files ?? []), ...(g.envs ?? [])]),
  ].map((r) => String(r).replace(/^[^=]*=/, ''));
  for (const ref of refs) {
    const p = resolve(dir, ref);
    const ok = existsSync(p) && (!statSync(p).isDirectory() || existsSync(join(p, 'kustomization.yaml')));
    check(ok, `${rel(file)}: '${ref}' does not exist (or is a directory without kustomization.yaml)`);
  }
}

// --- metric names ---
function knownMetrics() {
  const text = readFileSync(join(root, 'libs', 'metrics', 'src', 'metric-names.ts'), 'utf8');
  const body = text.slice(text.indexOf('export const METRIC ='), text.indexOf('} as const;'));
  return new Set([...body.matchAll(/'(tpserve_[a-z0-9_]+)'/g)].map((m) => m[1]));
}

/** tpserve_* names in a PromQL text, skipping recording-rule names (level:metric:operation). */
function metricNamesIn(text) {
  return [...text.matchAll(/(?<![\w:])tpserve_[a-z0-9_]+(?![\w:])/g)].map((m) => m[0]);
}

function recordingRulesIn(text) {
  return [...text.matchAll(/(?<![\w:])[a-z_]+:tpserve_[a-z0-9_]+:[a-z0-9_]+/g)].map((m) => m[0]);
}

function checkMetricNames(where, text, known, records) {
  for (const name of metricNamesIn(text)) {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    check(known.has(name) || known.has(base), `${where}: unknown metric '${name}' (not in libs/metrics/src/metric-names.ts)`);
  }
  for (const name of recordingRulesIn(text)) {
    check(records.has(name), `${where}: recording rule '${name}' is not defined in deploy/prometheus/alerts.yml`);
  }
}

function docAnchors() {
  const path = join(root, 'docs', 'deploy.md');
  if (!existsSync(path)) return new Set();
  const anchors = [...readFileSync(path, 'utf8').matchAll(/^#+\s+(.+)$/gm)].map((m) =>
    m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'),
  );
  return new Set(anchors);
}

function checkRules(file, doc, known) {
  const rules = (doc.groups ?? []).flatMap((g) => g.rules ?? []);
  const records = new Set(rules.filter((r) => r.record).map((r) => r.record));
  const anchors = docAnchors();
  for (const rule of rules) {
    const where = `${rel(file)}: ${rule.alert ?? rule.record}`;
    checkMetricNames(where, String(rule.expr), known, records);
    if (!rule.alert) continue;
    check(['critical', 'warning', 'info'].includes(rule.labels?.severity), `${where}: severity label missing or unknown`);
    check(Boolean(rule.annotations?.summary), `${where}: summary annotation missing`);
    const anchor = String(rule.annotations?.runbook ?? '').split('#')[1];
    check(Boolean(anchor) && anchors.has(anchor), `${where}: runbook anchor '#${anchor}' not found in docs/deploy.md`);
  }
  return records;
}

function checkDashboard(file, dash, known, records) {
  const panels = (dash.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
  const ids = panels.map((p) => p.id);
  check(new Set(ids).size === ids.length, `${rel(file)}: duplicate panel ids`);
  check((dash.templating?.list ?? []).some((v) => v.name === 'datasource' && v.type === 'datasource'), `${rel(file)}: no datasource variable`);
  for (const panel of panels.filter((p) => p.type !== 'row')) {
    const where = `${rel(file)}: panel '${panel.title}'`;
    check(Array.isArray(panel.targets) && panel.targets.length > 0, `${where}: no targets`);
    check(panel.gridPos && Number.isInteger(panel.gridPos.w) && Number.isInteger(panel.gridPos.h), `${where}: gridPos`);
    check(panel.datasource?.uid === '${datasource}', `${where}: datasource is not \${datasource}`);
    for (const t of panel.targets ?? []) {
      check(typeof t.expr === 'string' && t.expr.length > 0, `${where}: target ${t.refId} has no expr`);
      checkMetricNames(where, String(t.expr), known, records);
    }
  }
}

// --- rendered manifests (kubectl kustomize output) ---
function checkRendered(file, docs) {
  const configMaps = new Set(docs.filter((d) => d?.kind === 'ConfigMap').map((d) => d.metadata.name));
  for (const dep of docs.filter((d) => d?.kind === 'Deployment')) {
    const spec = dep.spec.template.spec;
    const where = `${rel(file)}: Deployment ${dep.metadata.name}`;
    const main = spec.containers.find((c) => c.name === 'tpserve');
    if (!check(Boolean(main), `${where}: no container 'tpserve'`)) continue;
    const env = Object.fromEntries((main.env ?? []).map((e) => [e.name, e.value]));
    const gpus = Number(main.resources?.limits?.['nvidia.com/gpu'] ?? 0);
    if (env.TPSERVE_DEVICE === 'cuda') {
      check(String(gpus) === String(env.TPSERVE_TP), `${where}: TPSERVE_TP=${env.TPSERVE_TP} but nvidia.com/gpu limit ${gpus}`);
    } else {
      check(env.TPSERVE_DEVICE === 'cpu' && gpus === 0, `${where}: TPSERVE_DEVICE=${env.TPSERVE_DEVICE} with ${gpus} GPUs`);
    }
    check(Boolean(env.TPSERVE_MODEL) && env.TPSERVE_HOST === '0.0.0.0', `${where}: TPSERVE_MODEL / TPSERVE_HOST=0.0.0.0`);
    check(main.readinessProbe?.httpGet?.path === '/ready', `${where}: readinessProbe is not /ready`);
    check(main.livenessProbe?.httpGet?.path === '/health', `${where}: livenessProbe is not /health`);
    check(main.startupProbe?.httpGet?.path === '/health', `${where}: startupProbe is not /health`);
    const volumes = Object.fromEntries((spec.volumes ?? []).map((v) => [v.name, v]));
    const shm = (main.volumeMounts ?? []).find((m) => m.mountPath === '/dev/shm');
    check(shm && volumes[shm.name]?.emptyDir?.medium === 'Memory', `${where}: /dev/shm is not a memory-backed emptyDir`);
    const model = (main.volumeMounts ?? []).find((m) => env.TPSERVE_MODEL?.startsWith(m.mountPath));
    check(model?.readOnly === true, `${where}: the model mount is not read-only`);
    check(spec.securityContext?.runAsNonRoot === true, `${where}: runAsNonRoot`);
    for (const ref of (main.envFrom ?? []).map((e) => e.configMapRef?.name).filter(Boolean)) {
      check(configMaps.has(ref), `${where}: envFrom ConfigMap '${ref}' is not in the render`);
    }
  }
}

// --- main ---
const args = process.argv.slice(2);
const rendered = args.flatMap((a, i) => (args[i - 1] === '--rendered' ? [resolve(a)] : []));
const yamlFiles = [...walk(join(root, 'deploy')).filter((p) => /\.ya?ml$/.test(p)), join(root, 'docker-compose.yml'), ...rendered];
const jsonFiles = walk(join(root, 'deploy')).filter((p) => p.endsWith('.json'));
const known = knownMetrics();
check(known.size > 0, 'libs/metrics/src/metric-names.ts: no metric names found');

const parsed = loadYaml(yamlFiles);
if (!parsed) {
  process.stderr.write('validate-manifests: python3 with PyYAML not found (apt-get install python3-yaml): only a lint of the YAML runs\n');
  yamlFiles.forEach(lintYamlWithoutParser);
}
const docsOf = (file) => parsed?.[file]?.docs ?? [];
if (parsed) {
  for (const file of yamlFiles) check(!parsed[file].error, `${rel(file)}: ${parsed[file].error}`);
  for (const file of yamlFiles.filter((p) => p.endsWith('kustomization.yaml'))) docsOf(file).forEach((d) => checkKustomization(file, d));
}

const alertsFile = join(root, 'deploy', 'prometheus', 'alerts.yml');
const records = parsed ? checkRules(alertsFile, docsOf(alertsFile)[0] ?? {}, known) : new Set();
for (const file of jsonFiles) {
  let doc;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
    check(true, '');
  } catch (err) {
    check(false, `${rel(file)}: ${err.message}`);
    continue;
  }
  if (file.includes(join('grafana', 'dashboards'))) checkDashboard(file, doc, known, records);
}
for (const file of walk(join(root, 'deploy', 'k8s')).filter((p) => /\.ya?ml$/.test(p))) {
  const text = readFileSync(file, 'utf8');
  checkMetricNames(rel(file), text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n'), known, records);
}
if (parsed) for (const file of rendered) checkRendered(file, docsOf(file));

for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
process.stdout.write(`validate-manifests: ${numPassed} passed, ${failures.length} failed\n`);
process.exit(failures.length === 0 ? 0 : 1);
