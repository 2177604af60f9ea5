import { requestLogLevel } from './request-log';

describe('requestLogLevel', () => {
  it.each([
    ['a success', 200, true, 'debug'],
    ['a 304', 304, true, 'debug'],
    ['a refusal', 400, true, 'info'],
    ['a rate limit', 429, true, 'info'],
    ['a failure', 500, true, 'error'],
    ['database unavailable', 503, true, 'error'],
    ['a response the client left', 200, false, 'info'],
    ['a failure the client left', 500, false, 'error'],
  ])('%s', (_case, statusCode, finished, level) => {
    expect(requestLogLevel(statusCode, finished)).toBe(level);
  });
});
