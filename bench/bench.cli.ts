/**
 * `npm run bench`: MealPulse against the reference servers, workload by workload, with a
 * progress line while it runs, a Markdown table per workload at the end, and the results in
 * bench/results/<date>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from './harness/args';
import { openDatabaseServer } from './harness/bench-database';
import { describeMachine } from './harness/machine';
import { LOAD_CORE } from './harness/pinned-spawn';
import { Progress } from './harness/progress';
import { renderReport, WorkloadReport } from './harness/report';
import { WORKLOADS } from './workloads';

const RESULTS_DIR = join(__dirname, '..', '..', 'bench', 'results');

/** The orchestrator itself generates load (REST, autocannon): keep it off the server's core. */
function pinSelfToLoadCore(): void {
  try {
    execFileSync('taskset', ['-pc', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  } catch {
    // No taskset (or no permission): the run is still valid, only noisier; describeMachine says so.
  }
}

async function main(): Promise<void> {
  const { workloads, options } = parseArgs(
    process.argv.slice(2),
    WORKLOADS.map((w) => w.name),
    RESULTS_DIR,
  );
  pinSelfToLoadCore();
  if (options.profile) await mkdir(options.profileDir, { recursive: true });
  const progress = new Progress();
  const database = await openDatabaseServer();
  const started = new Date();
  const reports: WorkloadReport[] = [];
  try {
    for (const name of workloads) {
      const workload = WORKLOADS.find((w) => w.name === name)!;
      reports.push(await workload.run({ options, progress, database }));
    }
  } finally {
    progress.done();
    await database.stop();
  }
  const machine = { ...describeMachine(), database: database.description };
  const markdown = reports.map(renderReport).join('\n');
  process.stdout.write(`\n${markdown}\n`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = started.toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const file = join(RESULTS_DIR, `${stamp}${options.quick ? '-quick' : ''}.json`);
  await writeFile(
    file,
    `${JSON.stringify({ startedAt: started.toISOString(), options, machine, reports }, null, 2)}\n`,
  );
  process.stdout.write(`results: ${file}\n`);
  const missed = reports.flatMap((r) =>
    r.targets.filter((t) => !t.met).map((t) => `${r.id}: ${t.target}`),
  );
  if (missed.length > 0) process.stdout.write(`targets missed:\n  ${missed.join('\n  ')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
