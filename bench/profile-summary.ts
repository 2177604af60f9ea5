/**
 * `node dist/bench/profile-summary.js <file.cpuprofile> [top]`: the functions a `--profile` run
 * spent its samples in, by self time and by total time (with callees), to explain a missed
 * target in docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? relative(process.cwd(), url.replace(/^file:\/\//, '')) : '';
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

function summarise(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id)!;
    self.set(frameName(node), (self.get(frameName(node)) ?? 0) + 1);
    // Each function counts once per sample however deep the recursion.
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      onStack.add(frameName(byId.get(at)!));
    }
    for (const name of onStack) total.set(name, (total.get(name) ?? 0) + 1);
  }
  const samples = profile.samples.length;
  const table = (title: string, counts: Map<string, number>) =>
    [
      `${title} (${samples} samples)`,
      ...[...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, count]) => `${((100 * count) / samples).toFixed(1).padStart(6)} %  ${name}`),
    ].join('\n');
  return `${table('self', self)}\n\n${table('total', total)}\n`;
}

const [file, top = '25'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]\n');
  process.exit(2);
}
process.stdout.write(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top)));
