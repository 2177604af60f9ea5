import { clientErrorStatus, isPeersDelay } from './client-error.answer';

describe('clientErrorStatus', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_INVALID_METHOD', 400],
    [undefined, 400],
  ])('answers %s with %i, as Node does', (code, status) => {
    expect(clientErrorStatus(code)).toBe(status);
  });
});

describe('isPeersDelay', () => {
  it.each([
    ['a request timeout after bytes were read', 'ERR_HTTP_REQUEST_TIMEOUT', 1, true],
    ['a request timeout with nothing read', 'ERR_HTTP_REQUEST_TIMEOUT', 0, false],
    ['a parse error, whatever was read', 'HPE_INVALID_METHOD', 0, true],
  ])('%s: %s after %i bytes → %s', (_case, code, bytesRead, expected) => {
    expect(isPeersDelay(code, bytesRead)).toBe(expected);
  });
});
