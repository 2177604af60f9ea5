import {
  BadRequestException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { brotliDecompressSync, gunzipSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './json-depth';
import { refusePrototypeKeys } from './prototype-keys';

/** Charsets a JSON body may declare: JSON is UTF-8 (RFC 8259), and ASCII is a subset of it. */
const JSON_CHARSETS: ReadonlySet<string> = new Set(['utf-8', 'utf8', 'us-ascii']);

type Inflate = (body: Buffer, options: ZlibOptions) => Buffer;

/** What a body may be compressed with; each is inflated up to the body limit, not further. */
const INFLATE: ReadonlyMap<string, Inflate> = new Map<string, Inflate>([
  ['gzip', gunzipSync],
  ['x-gzip', gunzipSync],
  ['deflate', inflateSync],
  ['br', brotliDecompressSync],
]);

export interface JsonBodyHeaders {
  'content-type'?: string;
  'content-encoding'?: string;
}

/**
 * A request's JSON body, read from its bytes: inflated if it declares gzip, deflate or br (the
 * inflated body held to `limitBytes` too, so a small compressed body cannot expand without
 * bound), refused before parsing when it nests deeper than MAX_JSON_DEPTH (a recursive
 * transformer walking 8,000 levels would exhaust the stack), and parsed refusing prototype keys.
 * Every refusal is an HttpException: 400 for bytes that are not such JSON, 413 past the limit,
 * 415 for an encoding the service does not know.
 */
export function parseJsonBody(raw: Buffer, headers: JsonBodyHeaders, limitBytes: number): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !JSON_CHARSETS.has(charset.toLowerCase()))
    throw new BadRequestException(`Unsupported charset "${charset}": JSON is UTF-8`);
  const body = inflated(raw, headers['content-encoding'], limitBytes);
  if (jsonNestsDeeperThan(body, MAX_JSON_DEPTH))
    throw new BadRequestException(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(body.toString('utf8'), refusePrototypeKeys) as unknown;
  } catch (error) {
    throw new BadRequestException((error as Error).message);
  }
}

function inflated(raw: Buffer, encoding: string | undefined, limitBytes: number): Buffer {
  const name = (encoding ?? 'identity').trim().toLowerCase();
  if (name === 'identity' || name === '') return raw;
  const inflate = INFLATE.get(name);
  if (inflate === undefined)
    throw new UnsupportedMediaTypeException(`Unsupported content encoding "${name}"`);
  try {
    return inflate(raw, { maxOutputLength: limitBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new PayloadTooLargeException('Request body is too large');
    throw new BadRequestException(`Body is not valid ${name} data`);
  }
}
