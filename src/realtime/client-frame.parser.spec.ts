import { parseClientFrame } from './client-frame.parser';

const deep = (depth: number) => '{"type":"ping","x":' + '['.repeat(depth) + ']'.repeat(depth) + '}';

describe('parseClientFrame', () => {
  it.each([
    ['{"type":"ping"}', { type: 'ping' }],
    ['{"type":"ping","extra":1}', { type: 'ping' }],
    ['  {"type":"ping"}  ', { type: 'ping' }],
    ['{"type":"ack","seq":0}', { type: 'ack', seq: 0 }],
    ['{"type":"ack","seq":42}', { type: 'ack', seq: 42 }],
    ['{"type":"ack","seq":9007199254740991}', { type: 'ack', seq: 9007199254740991 }],
    ['{"type":"app_state","state":"background"}', { type: 'app_state', state: 'background' }],
    ['{"type":"app_state","state":"foreground","x":1}', { type: 'app_state', state: 'foreground' }],
    [deep(100), { type: 'ping' }],
  ])('accepts %s', (text, frame) => {
    expect(parseClientFrame(Buffer.from(text), false)).toEqual({ ok: true, frame });
  });

  it.each([
    ['not json', 'invalid_json'],
    ['{"type":"ping"', 'invalid_json'],
    ['', 'invalid_json'],
    ['null', 'invalid_frame'],
    ['[]', 'invalid_frame'],
    ['"ping"', 'invalid_frame'],
    ['42', 'invalid_frame'],
    ['{}', 'invalid_frame'],
    ['{"type":1}', 'invalid_frame'],
    ['{"type":null}', 'invalid_frame'],
    ['{"type":"subscribe"}', 'unknown_type'],
    ['{"type":"PING"}', 'unknown_type'],
    ['{"type":"ack"}', 'invalid_frame'],
    ['{"type":"ack","seq":"5"}', 'invalid_frame'],
    ['{"type":"ack","seq":-1}', 'invalid_frame'],
    ['{"type":"ack","seq":1.5}', 'invalid_frame'],
    ['{"type":"ack","seq":1e300}', 'invalid_frame'],
    ['{"type":"ack","seq":9007199254740992}', 'invalid_frame'],
    ['{"type":"app_state"}', 'invalid_frame'],
    ['{"type":"app_state","state":"suspended"}', 'invalid_frame'],
    ['{"type":"app_state","state":"Background"}', 'invalid_frame'],
    ['{"type":"app_state","state":1}', 'invalid_frame'],
    ['{"type":"app_state","state":["background"]}', 'invalid_frame'],
    ['{"type":"ping","__proto__":{"polluted":true}}', 'invalid_frame'],
    ['{"type":"ping","a":{"constructor":{"prototype":{}}}}', 'invalid_frame'],
    [deep(200_000), 'invalid_json'],
  ])('rejects %s with %s', (text, code) => {
    const parsed = parseClientFrame(Buffer.from(text), false);
    expect(parsed).toMatchObject({ ok: false, code });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects binary frames', () => {
    expect(parseClientFrame(Buffer.from('{"type":"ping"}'), true)).toMatchObject({
      ok: false,
      code: 'binary_frame',
    });
  });
});
