import { Injectable, Logger } from '@nestjs/common';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';

export interface PageAsset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The folder `npm run build` writes the page to (vite.config.ts's `outDir`). */
export const PAGE_OUTPUT = join('dist', 'admin-console');

/** The project's root: the nearest folder above this file with a package.json (src or dist). */
function projectRoot(): string {
  let folder = __dirname;
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder)
    folder = dirname(folder);
  return folder;
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(folder, entry.name)) : [join(folder, entry.name)],
  );
}

/**
 * The built page, read once at start-up and served from memory: a request can only name a file
 * that the build produced (no path from a URL ever reaches the file system).
 */
@Injectable()
export class AdminPageAssets {
  private readonly logger = new Logger(AdminPageAssets.name);
  private readonly files = new Map<string, PageAsset>();

  constructor() {
    const folder = join(projectRoot(), PAGE_OUTPUT);
    if (!existsSync(folder)) {
      this.logger.warn(
        `the admin console is not built (${PAGE_OUTPUT} is missing): run npm run build`,
      );
      return;
    }
    for (const file of filesUnder(folder)) {
      const type = TYPES[extname(file)];
      if (type === undefined) continue;
      this.files.set(relative(folder, file).split(sep).join('/'), {
        body: readFileSync(file),
        type,
      });
    }
  }

  /** `index.html`, or `assets/<name>` as the build named it; undefined for anything else. */
  get(path: string): PageAsset | undefined {
    return this.files.get(path);
  }
}
