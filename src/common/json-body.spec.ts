import { HttpException } from '@nestjs/common';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { parseJsonBody } from './json-body';

const LIMIT = 1_024;
const JSON_TYPE = 'application/json';

function statusOf(run: () => unknown): number | 'parsed' {
  try {
    run();
    return 'parsed';
  } catch (error) {
    if (error instanceof HttpException) return error.getStatus();
    throw error;
  }
}

describe('parseJsonBody', () => {
  const text = '{"text": "an apple"}';

  it.each<[string, Buffer, Record<string, string>]>([
    ['plain JSON', Buffer.from(text), { 'content-type': JSON_TYPE }],
    ['UTF-8 declared', Buffer.from(text), { 'content-type': 'application/json; charset=UTF-8' }],
    ['charset quoted', Buffer.from(text), { 'content-type': 'application/json;charset="utf-8"' }],
    ['identity', Buffer.from(text), { 'content-encoding': 'identity' }],
    ['gzip', gzipSync(text), { 'content-encoding': 'gzip' }],
    ['deflate', deflateSync(text), { 'content-encoding': 'Deflate' }],
    ['br', brotliCompressSync(text), { 'content-encoding': 'br' }],
  ])('reads %s', (_case, raw, headers) => {
    expect(parseJsonBody(raw, headers, LIMIT)).toEqual({ text: 'an apple' });
  });

  it.each<[string, Buffer, Record<string, string>, number]>([
    ['truncated JSON', Buffer.from('{"text": '), {}, 400],
    [
      'UTF-16 declared',
      Buffer.from(text),
      { 'content-type': 'application/json; charset=utf-16' },
      400,
    ],
    ['gzip declared, plain sent', Buffer.from(text), { 'content-encoding': 'gzip' }, 400],
    ['an unknown encoding', Buffer.from(text), { 'content-encoding': 'x-unknown' }, 415],
    ['two encodings', gzipSync(gzipSync(text)), { 'content-encoding': 'gzip, gzip' }, 415],
    [
      'gzip past the limit once inflated',
      gzipSync(Buffer.alloc(LIMIT + 1, 0x20)),
      { 'content-encoding': 'gzip' },
      413,
    ],
    ['nested 33 deep', Buffer.from(`${'['.repeat(33)}${']'.repeat(33)}`), {}, 400],
    ['a __proto__ key', Buffer.from('{"text": "a", "__proto__": {"x": 1}}'), {}, 400],
    ['an escaped constructor key', Buffer.from('{"c\\u006fnstructor": 1}'), {}, 400],
    ['a prototype key, deep', Buffer.from('{"a": [{"prototype": 1}]}'), {}, 400],
  ])('refuses %s with %i', (_case, raw, headers, status) => {
    expect(statusOf(() => parseJsonBody(raw, headers, LIMIT))).toBe(status);
  });

  it('takes JSON nested exactly 32 deep', () => {
    const raw = Buffer.from(`${'['.repeat(32)}${']'.repeat(32)}`);
    expect(statusOf(() => parseJsonBody(raw, {}, LIMIT))).toBe('parsed');
  });
});
