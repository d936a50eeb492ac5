#!/usr/bin/env node
// Offline validation of the LeaderWorkerSet manifests (run by check.sh), no cluster needed:
//   1. every LeaderWorkerSet in deploy/k8s/overlays/*/ (or in the given files, e.g. a
//      `kubectl kustomize` render) against the openAPIV3Schema of the LWS CRD copied from
//      kubernetes-sigs/lws (deploy/crds/lws/, source and licence named in its README), with
//      unknown fields refused as the API server's strict field validation does (ajv);
//   2. what tpserve needs of it: the leader runs `serve --workers lws[:PORT]` and a rank on that
//      port, every pod one `tpserve worker` with one GPU, mutual TLS files on both sides, a
//      memory-backed /dev/shm and NCCL_SOCKET_IFNAME on every rank, probes on every container.
// Needs python3 + PyYAML (YAML) and the repository's node_modules (ajv, ajv-formats).
// Usage: node deploy/scripts/validate-lws.mjs [FILE ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const Ajv = require('ajv').default;
const addFormats = require('ajv-formats').default;
const CRD = join(root, 'deploy', 'crds', 'lws', 'leaderworkerset.x-k8s.io_leaderworkersets.yaml');

function loadYaml(files) {
  const py = 'import json,sys,yaml\njson.dump({p: list(yaml.safe_load_all(open(p))) for p in sys.argv[1:]}, sys.stdout, default=str)';
  const r = spawnSync('python3', ['-c', py, ...files], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`cannot parse YAML with python3 + PyYAML: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

// Kubernetes prunes or (strict validation) refuses fields a structural schema does not name.
function strict(schema) {
  if (!schema || typeof schema !== 'object') return schema;
  const out = Array.isArray(schema) ? schema.map(strict) : {};
  if (Array.isArray(schema)) return out;
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v).map(([n, s]) => [n, strict(s)])) : strict(v);
  if (schema.properties && schema.additionalProperties === undefined && !schema['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

const failures = [];
let numPassed = 0;
const check = (ok, what) => (ok ? numPassed++ : failures.push(what), ok);

const args = process.argv.slice(2);
const overlays = join(root, 'deploy', 'k8s', 'overlays');
const files = args.length > 0
  ? args.map((a) => resolve(a))
  : readdirSync(overlays).flatMap((d) => readdirSync(join(overlays, d)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(overlays, d, f)));
const docs = loadYaml([CRD, ...files]);
const version = docs[CRD][0].spec.versions.find((v) => v.storage);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(strict(version.schema.openAPIV3Schema));

const env = (c, name) => (c.env ?? []).find((e) => e.name === name);
const arg = (c, flag) => { const a = c.args ?? []; const i = a.indexOf(flag); return i >= 0 ? a[i + 1] : undefined; };

function checkPod(where, spec, isLeader) {
  const containers = spec.containers ?? [];
  const workers = containers.filter((c) => (c.command ?? []).join(' ').includes('tpserve.js worker'));
  check(workers.length === 1, `${where}: exactly one \`tpserve worker\` container (found ${workers.length})`);
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const c of containers) {
    const w = `${where} container ${c.name}`;
    check(c.livenessProbe && (c.startupProbe || c.readinessProbe), `${w}: liveness and startup/readiness probes`);
    for (const v of ['TLS_CERT', 'TLS_KEY', 'TLS_CA']) check(env(c, `TPSERVE_WORKER_${v}`), `${w}: TPSERVE_WORKER_${v} (mutual TLS)`);
    for (const m of c.volumeMounts ?? []) check(volumes.has(m.name), `${w}: mounts volume ${m.name}, which the pod lacks`);
  }
  for (const c of workers) {
    const w = `${where} container ${c.name}`;
    check(String(c.resources?.limits?.['nvidia.com/gpu']) === '1', `${w}: one nvidia.com/gpu per rank`);
    check(arg(c, '--port') && (c.ports ?? []).some((p) => String(p.containerPort) === arg(c, '--port')), `${w}: --port is a container port`);
    check(arg(c, '--host') !== '0.0.0.0' || env(c, 'POD_IP')?.valueFrom?.fieldRef?.fieldPath === 'status.podIP', `${w}: binds 0.0.0.0, so POD_IP (status.podIP) is its advertise address`);
    check(env(c, 'NCCL_SOCKET_IFNAME'), `${w}: NCCL_SOCKET_IFNAME`);
    const shm = (c.volumeMounts ?? []).find((m) => m.mountPath === '/dev/shm');
    check(shm && volumes.get(shm.name)?.emptyDir?.medium === 'Memory', `${w}: memory-backed /dev/shm`);
  }
  if (!isLeader) return;
  const coordinator = containers.find((c) => (arg(c, '--workers') ?? '').startsWith('lws'));
  if (!check(coordinator, `${where}: a coordinator container with --workers lws[:PORT]`)) return;
  const port = (arg(coordinator, '--workers').split(':')[1]) ?? '50051';
  check(workers.some((c) => arg(c, '--port') === port), `${where}: rank 0 listens on the --workers lws port ${port}`);
  check(!env(coordinator, 'TPSERVE_WORKER_INSECURE'), `${where}: no plaintext to remote ranks`);
}

for (const file of files) {
  for (const doc of (docs[file] ?? []).filter((d) => d?.kind === 'LeaderWorkerSet')) {
    const where = `${relative(root, file)}: LeaderWorkerSet ${doc.metadata?.name}`;
    const ok = validate(doc);
    check(ok, `${where}: not valid against the LWS CRD ${version.name} schema:\n  ${(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` '${e.params.additionalProperty}'` : ''}`).join('\n  ')}`);
    const t = doc.spec?.leaderWorkerTemplate ?? {};
    check(Number(t.size) >= 2, `${where}: size (hosts = ranks) of at least 2`);
    checkPod(`${where} leaderTemplate`, t.leaderTemplate?.spec ?? {}, true);
    checkPod(`${where} workerTemplate`, t.workerTemplate?.spec ?? {}, false);
  }
}
check(numPassed > 0 || failures.length > 0, 'no LeaderWorkerSet found');
if (!existsSync(CRD)) failures.push(`missing ${relative(root, CRD)}`);
for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
process.stdout.write(`validate-lws: ${numPassed} passed, ${failures.length} failed\n`);
process.exit(failures.length === 0 ? 0 : 1);
