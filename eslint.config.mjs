// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { readdirSync } from 'node:fs';

/**
 * The module map (docs/architecture.md, "Module map"), enforced on every import under src/.
 * Infrastructure sits below the features and imports none of them. A feature imports any
 * infrastructure, the features it `uses` and, of those, only their public `surface` (files
 * without `.ts`); every other file in a feature's folder is its own. src/main.ts and
 * src/app.module.ts compose the features, through their surfaces too, and nothing imports them.
 * test/, tools/, bench/ and migrations/ are outside the map.
 */
const INFRASTRUCTURE = [
  'auth',
  'cluster',
  'common',
  'config',
  'database',
  'logging',
  'metrics',
  'realtime',
];
const FEATURES = {
  'meal-analysis': {
    uses: [],
    surface: [
      'meal-analysis.module',
      'meal-analyzer.port',
      'meal-analysis.types',
      'meal-analysis.error',
      'meal-analysis.schemas',
    ],
  },
  'meal-logs': {
    uses: ['meal-analysis'],
    surface: [
      'meal-logs.module',
      'meal-logs.service',
      'meal-log-outcome.publisher',
      'meal-log.view',
      'meal-log.schema',
      'dto/meal-log.response',
    ],
  },
  presence: {
    uses: [],
    surface: [
      'presence.module',
      'presence.service',
      'session-connections',
      'upgrade.authorizer',
      'live-session',
      'session-placement',
      'presence-change',
      'presence-changes',
    ],
  },
  devices: { uses: [], surface: ['devices.module', 'devices.service', 'push-target'] },
  apns: { uses: [], surface: ['apns.module', 'apns.client', 'apns-answer'] },
  notifications: {
    uses: ['meal-logs', 'presence', 'devices', 'apns'],
    surface: [
      'notifications.module',
      'notifications.service',
      'notification.view',
      'notification.schema',
    ],
  },
  gateway: { uses: ['presence', 'notifications'], surface: ['gateway.module'] },
  health: { uses: [], surface: ['health.module'] },
  'admin-console': { uses: ['presence'], surface: ['admin-console.module'] },
};

const unmapped = readdirSync(new URL('./src', import.meta.url), { withFileTypes: true }).filter(
  (entry) =>
    entry.isDirectory() && !INFRASTRUCTURE.includes(entry.name) && !(entry.name in FEATURES),
);
if (unmapped.length > 0)
  throw new Error(`src/${unmapped[0].name} is in no layer of the module map (eslint.config.mjs)`);

const escape = (name) => name.replace(/[.]/g, '\\.');
/**
 * A relative import of one of `folders` from a file under src/: `./` from src/ itself, one `../`
 * per level from a module's folder and its subfolders.
 */
const into = (folders, from = 'module') =>
  `^${from === 'root' ? '\\./' : '(?:\\.\\./)+'}(?:${folders.map(escape).join('|')})`;

const COMPOSITION_ROOT = {
  regex: `${into(['main', 'app.module'])}$`,
  message: 'main.ts and app.module.ts compose the application; nothing imports them.',
};
/** An import of one of `feature`'s files other than its public surface. */
function internalsOf(feature, from = 'module') {
  const { surface } = FEATURES[feature];
  return {
    regex: `${into([feature], from)}/(?!(?:${surface.map(escape).join('|')})$)`,
    message: `Internal to ${feature}; its public surface is ${surface.join(', ')}.`,
  };
}

const boundaries = (files, patterns) => ({
  files,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
});

const BOUNDARIES = [
  boundaries(
    ['src/*.ts'],
    Object.keys(FEATURES).map((feature) => internalsOf(feature, 'root')),
  ),
  ...INFRASTRUCTURE.map((folder) =>
    boundaries(
      [`src/${folder}/**/*.ts`],
      [
        COMPOSITION_ROOT,
        {
          regex: `${into(Object.keys(FEATURES))}(?:/|$)`,
          message: `Infrastructure (${INFRASTRUCTURE.join(', ')}) imports no feature: the features build on it.`,
        },
      ],
    ),
  ),
  ...Object.entries(FEATURES).map(([feature, { uses }]) => {
    const others = Object.keys(FEATURES).filter((f) => f !== feature && !uses.includes(f));
    return boundaries(
      [`src/${feature}/**/*.ts`],
      [
        COMPOSITION_ROOT,
        {
          regex: `${into(others)}(?:/|$)`,
          message:
            uses.length === 0
              ? `Against the module map: ${feature} imports no other feature.`
              : `Against the module map: of the features, ${feature} imports only ${uses.join(', ')}.`,
        },
        ...uses.map((used) => internalsOf(used)),
      ],
    );
  }),
];

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      '.data/',
      'coverage/',
      '**/*.js',
      '*.mjs',
      'tools/contracts/generated/',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // supertest bodies are `any` by design; assertions check their shape.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  ...BOUNDARIES,
  {
    // The bench measures MealPulse from the build output and keeps its own copy of the wire in
    // bench/references/, so that src can change freely. The one src module it imports is the
    // embedded PostgreSQL server, the harness's database when no other is reachable.
    files: ['bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)src/(?!database/embedded-postgres\\.server$)',
              message: 'bench imports only src/database/embedded-postgres.server from src.',
            },
          ],
        },
      ],
    },
  },
);
