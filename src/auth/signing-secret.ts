import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config';
import { MIN_SECRET_BYTES } from '../config/config.loader';

/** The generated secret's file name inside DATA_DIR. */
export const SECRET_FILE_NAME = 'jwt-secret';

/** A secret file that cannot be used; its message is the one line printed at boot. */
export class SigningSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningSecretError';
  }
}

export function secretFilePath(dataDir: string): string {
  return join(dataDir, SECRET_FILE_NAME);
}

/**
 * The HS256 secret access tokens are signed with: JWT_SECRET when given, otherwise the random
 * secret kept in the data directory, generated on first use. The service, `npm run token` and the
 * simulator all read it from there, so tokens minted on this machine are valid for its service
 * and for no other: there is no secret anyone could know from the source.
 */
export function loadSigningSecret(config: Pick<AppConfig, 'auth' | 'database'>): string {
  return config.auth.jwtSecret ?? readOrCreateSecretFile(config.database.dataDir);
}

function readOrCreateSecretFile(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = secretFilePath(dataDir);
  if (existsSync(path)) return readSecretFile(path);
  // Written in full under a private name, then linked into place: `link` fails if the file
  // exists, so of two processes starting at once one secret wins and neither reads a half file.
  const secret = randomBytes(48).toString('base64url');
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, path);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readSecretFile(path);
  } finally {
    unlinkSync(draft);
  }
}

function readSecretFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    // Like ssh with a private key: a secret others can read is not a secret any more.
    if ((fstatSync(fd).mode & 0o077) !== 0) {
      throw new SigningSecretError(
        `${path} is readable by other users; run: chmod 600 ${path} (or set JWT_SECRET)`,
      );
    }
    const secret = readFileSync(fd, 'utf8').trim();
    if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
      throw new SigningSecretError(
        `${path} holds no usable secret (under ${MIN_SECRET_BYTES} bytes); delete it to have a new one generated, which invalidates every token issued so far`,
      );
    }
    return secret;
  } finally {
    closeSync(fd);
  }
}
