// The LeaderWorkerSet overlay passes deploy/scripts/validate-lws.mjs (the LWS CRD schema with
// unknown fields refused, plus tpserve's own rules), and the validator catches a typo in a field
// name and a rank with two GPUs in a broken copy.
//   npx vitest run test/deploy/lws-manifests.test.ts
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../helpers/random-checkpoint';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const SCRIPT = path.join(REPO, 'deploy/scripts/validate-lws.mjs');
const OVERLAY = path.join(REPO, 'deploy/k8s/overlays/lws-multinode/leaderworkerset.yaml');

describe('deploy/k8s/overlays/lws-multinode', () => {
  const dir = makeTempDir('lws-validate');
  afterAll(() => removeDir(dir));

  it('is a valid LeaderWorkerSet with what tpserve needs', async () => {
    const { stdout } = await run(process.execPath, [SCRIPT, OVERLAY], { cwd: REPO });
    expect(stdout).toMatch(/validate-lws: \d+ passed, 0 failed/);
  });

  it('refuses an unknown field and a rank with two GPUs', async () => {
    const broken = fs.readFileSync(OVERLAY, 'utf8').replace('maxSurge: 0', 'maxSurgee: 0').replace(/nvidia\.com\/gpu: 1/g, 'nvidia.com/gpu: 2');
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(file, broken);
    const err = (await run(process.execPath, [SCRIPT, file], { cwd: REPO }).then(() => ({ stderr: '', code: 0 }), (e: { stderr: string; code: number }) => e));
    expect(err.code).toBe(1);
    expect(err.stderr).toContain("/spec/rolloutStrategy/rollingUpdateConfiguration must NOT have additional properties 'maxSurgee'");
    expect(err.stderr).toContain('workerTemplate container worker: one nvidia.com/gpu per rank');
  });
});
