import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const RULE = '@typescript-eslint/no-restricted-imports';

interface LintCase {
  filePath: string;
  source: string;
}

interface LintMessage {
  ruleId: string | null;
  fatal?: boolean;
  message: string;
}

/**
 * Lints each source as the file at its path with the project's own eslint.config.mjs, in a child
 * process: ESLint loads its config through a dynamic import, which jest's module sandbox refuses.
 * Type information is off: the import rules need none, and these files exist only here.
 */
const LINT_TEXTS = `
const { ESLint } = require('eslint');
const { configs } = require('typescript-eslint');
const eslint = new ESLint({ overrideConfig: configs.disableTypeChecked });
let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const messages = [];
  for (const { filePath, source } of JSON.parse(input))
    messages.push((await eslint.lintText(source, { filePath }))[0].messages);
  process.stdout.write(JSON.stringify(messages));
});`;

function lint(cases: LintCase[]): LintMessage[][] {
  const output = execFileSync(process.execPath, ['-e', LINT_TEXTS], {
    cwd: resolve(__dirname, '..'),
    input: JSON.stringify(cases),
    encoding: 'utf8',
  });
  return JSON.parse(output) as LintMessage[][];
}

const REFUSED: [string, LintCase, RegExp][] = [
  [
    'infrastructure imports a feature',
    {
      filePath: 'src/realtime/frames.ts',
      source: "export type { NotificationView } from '../notifications/notification.view';",
    },
    /Infrastructure \(.*realtime.*\) imports no feature/,
  ],
  [
    'meal-logs imports notifications, downstream of it',
    {
      filePath: 'src/meal-logs/announcer.ts',
      source: "export { NotificationsService } from '../notifications/notifications.service';",
    },
    /of the features, meal-logs imports only meal-analysis\./,
  ],
  [
    'presence imports the gateway, on top of it',
    {
      filePath: 'src/presence/frames.ts',
      source: "export { GatewayModule } from '../gateway/gateway.module';",
    },
    /presence imports no other feature\./,
  ],
  [
    'notifications imports a presence internal',
    {
      filePath: 'src/notifications/sessions.ts',
      source: "export { LocalSessions } from '../presence/local-sessions';",
    },
    /Internal to presence; its public surface is presence\.module, presence\.service/,
  ],
  [
    "notifications imports another module's repository",
    {
      filePath: 'src/notifications/targets.ts',
      source:
        "import { DevicePushTokenRepository } from '../devices/device-push-token.repository';",
    },
    /Internal to devices; its public surface is devices\.module, devices\.service/,
  ],
  [
    'a subfolder reaches into another module',
    {
      filePath: 'src/notifications/dto/sessions.query.ts',
      source: "import type { SessionRecord } from '../../presence/presence-store.port';",
    },
    /Internal to presence/,
  ],
  [
    'the composition root imports an internal',
    {
      filePath: 'src/bootstrap.ts',
      source: "export { MemoryPresenceStore } from './presence/memory-presence.store';",
    },
    /Internal to presence/,
  ],
  [
    'a feature imports the composition root',
    { filePath: 'src/health/modules.ts', source: "export { AppModule } from '../app.module';" },
    /nothing imports them\./,
  ],
];

const ALLOWED: LintCase = {
  filePath: 'src/notifications/sessions.ts',
  source: [
    "export { PresenceService } from '../presence/presence.service';",
    "export type { SessionPlacement } from '../presence/session-placement';",
    "export { AppConfig } from '../config/app-config';",
  ].join('\n'),
};

describe('module boundaries (eslint.config.mjs)', () => {
  let refused: LintMessage[][];
  let allowed: LintMessage[];

  beforeAll(() => {
    const messages = lint([...REFUSED.map(([, lintCase]) => lintCase), ALLOWED]);
    refused = messages.slice(0, REFUSED.length);
    allowed = messages[REFUSED.length];
  });

  /** The boundary errors, and any error that kept the file from being linted at all. */
  const errorsIn = (messages: LintMessage[]): string[] =>
    messages
      .filter((message) => message.fatal === true || message.ruleId === RULE)
      .map((message) => message.message);

  it.each(REFUSED.map(([name, , reason], i) => [name, i, reason] as const))(
    'refuses: %s',
    (_name, i, reason) => {
      expect(errorsIn(refused[i])).toEqual([expect.stringMatching(reason)]);
    },
  );

  it("passes an import along the map: notifications uses presence's public surface", () => {
    expect(errorsIn(allowed)).toEqual([]);
  });
});
