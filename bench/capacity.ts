/**
 * `npm run capacity`: what the measured costs (the newest bench result file holding each) mean
 * for a population of users, as Markdown for docs/scale-out.md. The arithmetic is
 * bench/capacity/capacity.model.ts; the assumptions are its options.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCapacityArgs } from './capacity/capacity-args';
import { planCapacity } from './capacity/capacity.model';
import { renderPlan } from './capacity/capacity.report';
import { findFigures, ResultFile } from './capacity/measured-figures';

const RESULTS_DIR = join(__dirname, '..', '..', 'bench', 'results');

async function readResultFiles(dir: string): Promise<ResultFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json'));
  return Promise.all(
    names.map(async (name) => ({
      ...(JSON.parse(await readFile(join(dir, name), 'utf8')) as Omit<ResultFile, 'name'>),
      name,
    })),
  );
}

async function main(): Promise<void> {
  const { assumptions, resultsDir } = parseCapacityArgs(process.argv.slice(2), RESULTS_DIR);
  const { figures, sources } = findFigures(await readResultFiles(resultsDir));
  process.stdout.write(renderPlan(planCapacity(figures, assumptions), assumptions, sources));
}

main().catch((error: unknown) => {
  process.stderr.write(`capacity: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
