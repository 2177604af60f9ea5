import 'reflect-metadata';
import SwaggerParser from '@apidevtools/swagger-parser';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateOpenApiDocument } from './openapi-document';

const USAGE = 'usage: openapi.cli [--out <file>]  (validates the document; --out also writes it)';

async function main(args: string[]): Promise<void> {
  const out = args[0] === '--out' ? args[1] : undefined;
  if (args.length > 0 && out === undefined) throw new Error(USAGE);
  const document = await generateOpenApiDocument();
  // The parser resolves $refs in place, so it gets a copy of what is written.
  await SwaggerParser.validate(structuredClone(document) as never);
  const operations = Object.values(document.paths).reduce(
    (count, path) => count + Object.keys(path).length,
    0,
  );
  if (out !== undefined) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  }
  process.stdout.write(
    `OpenAPI document valid: ${operations} operations${out === undefined ? '' : `, written to ${out}`}\n`,
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
