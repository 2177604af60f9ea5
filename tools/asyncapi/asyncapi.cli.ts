import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildAsyncApiDocument, frameSchemaComponents } from '../../src/gateway/asyncapi.document';

const USAGE =
  'usage: asyncapi.cli [--out <file> --frames <file>]  (validates the document; --out also writes it, ' +
  '--frames the frame schemas as an OpenAPI 3.1 components document, for openapi-typescript)';

/** Diagnostics that are advice, not faults: a newer minor version of AsyncAPI exists. */
const ADVICE = new Set(['asyncapi-latest-version']);
/** What fails the check; information and hints do not. */
const FAULTS = new Set<number>([DiagnosticSeverity.Error, DiagnosticSeverity.Warning]);

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

function write(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

async function main(args: string[]): Promise<void> {
  const out = option(args, '--out');
  const frames = option(args, '--frames');
  if (args.length !== (out ? 2 : 0) + (frames ? 2 : 0)) throw new Error(USAGE);
  const document = buildAsyncApiDocument();
  const faults = (await new Parser().validate(structuredClone(document) as never)).filter(
    (diagnostic) => FAULTS.has(Number(diagnostic.severity)) && !ADVICE.has(String(diagnostic.code)),
  );
  if (faults.length > 0) {
    throw new Error(
      `AsyncAPI document invalid:\n${faults
        .map((fault) => `  ${fault.path.join('.')}: ${fault.message} (${String(fault.code)})`)
        .join('\n')}`,
    );
  }
  if (out) write(out, document);
  if (frames) {
    write(frames, {
      openapi: '3.1.0',
      info: { title: 'MealPulse WebSocket frames', version: '1' },
      paths: {},
      components: { schemas: frameSchemaComponents() },
    });
  }
  const { messages } = (document.components ?? {}) as { messages?: object };
  process.stdout.write(
    `AsyncAPI document valid: ${Object.keys(messages ?? {}).length} frames${out ? `, written to ${out}` : ''}\n`,
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
