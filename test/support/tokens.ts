import { sign } from 'jsonwebtoken';

/** Every test app and child process is configured with this secret. */
export const TEST_JWT_SECRET = 'test-secret-of-at-least-32-characters!!';

export function tokenFor(
  userId: string,
  options: { roles?: string[]; ttlSeconds?: number } = {},
): string {
  return sign({ sub: userId, roles: options.roles ?? [] }, TEST_JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: options.ttlSeconds ?? 3600,
  });
}
