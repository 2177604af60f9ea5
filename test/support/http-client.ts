import request from 'supertest';
import { tokenFor } from './tokens';

/** supertest against a listening app (in-process or child), authenticated as `userId` (or not). */
export function api(target: { baseUrl: string }, userId?: string, options?: { roles?: string[] }) {
  const withAuth = (test: request.Test) =>
    userId === undefined ? test : test.set('Authorization', `Bearer ${tokenFor(userId, options)}`);
  return {
    get: (path: string) => withAuth(request(target.baseUrl).get(path)),
    post: (path: string) => withAuth(request(target.baseUrl).post(path)),
    put: (path: string) => withAuth(request(target.baseUrl).put(path)),
    delete: (path: string) => withAuth(request(target.baseUrl).delete(path)),
  };
}
