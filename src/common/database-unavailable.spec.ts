import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from './database-unavailable';

/** An error as node-postgres raises it: a message, and a SQLSTATE or errno code if any. */
function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/** The same error as TypeORM rethrows it from a query. */
function wrapped(error: Error): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], error);
}

describe('isDatabaseUnavailable', () => {
  it.each([
    ['connection refused', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['connection reset', pgError('read ECONNRESET', 'ECONNRESET')],
    [
      'server shutting down',
      pgError('terminating connection due to administrator command', '57P01'),
    ],
    ['connection failure state', pgError('connection failure', '08006')],
    [
      'statement timeout (server side)',
      pgError('canceling statement due to statement timeout', '57014'),
    ],
    ['no answer within query_timeout (client side)', pgError('Query read timeout')],
    ['connect not answered in time', pgError('Connection terminated due to connection timeout')],
    ['no free pooled connection in time', pgError('timeout exceeded when trying to connect')],
    ['connection cut', pgError('Connection terminated unexpectedly')],
    ['queued behind a query that timed out', pgError('Client was closed and is not queryable')],
    ['wrapped by TypeORM: read timeout', wrapped(pgError('Query read timeout'))],
    ['wrapped by TypeORM: statement timeout', wrapped(pgError('canceling statement', '57014'))],
  ])('%s: unavailable', (_case, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['unique violation', pgError('duplicate key value violates unique constraint', '23505')],
    ['syntax error', pgError('syntax error at or near "SELEC"', '42601')],
    ['deadlock', pgError('deadlock detected', '40P01')],
    [
      'wrapped by TypeORM: invalid input',
      wrapped(pgError('invalid input syntax for type uuid', '22P02')),
    ],
    ['not an Error', { message: 'Query read timeout' }],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ])('%s: not unavailable', (_case, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
