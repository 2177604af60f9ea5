// Lets `node -r ./tools/openapi/register-ts.js file.ts` run TypeScript before any build (npm run
// lint runs before npm run build): each .ts file is compiled on require by SWC with the
// project's .swcrc, the same compiler the tests use.
const { transformSync } = require('@swc/core');
const { readFileSync } = require('node:fs');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { filename, sourceMaps: 'inline' });
  module._compile(code, filename);
};
