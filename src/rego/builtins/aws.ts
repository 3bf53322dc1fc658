// providers.aws.sign_req: AWS Signature Version 4 as OPA's internal/providers/aws signs requests.
import { createHash, createHmac } from 'node:crypto';
import { goJSON } from './encoding.js';
import { builtinError, obj, operandError, typeError } from './errors.js';
import { RawNumber } from './json-out.js';
import type { BuiltinTable } from './types.js';

const NAME = 'providers.aws.sign_req';
const REQUIRED_CONFIG = ['aws_access_key', 'aws_region', 'aws_secret_access_key', 'aws_service'];
const goSet = (keys: string[]) => `{${keys.sort().map((k) => JSON.stringify(k)).join(', ')}}`;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 unreserved characters stay; everything else is %XX (AWS canonical form). */
function awsEscape(s: string, keepSlash: boolean): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) return c;
      return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function canonicalQuery(search: string): string {
  if (!search) return '';
  const pairs = search
    .replace(/^\?/, '')
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      const k = decodeURIComponent((i < 0 ? p : p.slice(0, i)).replace(/\+/g, ' '));
      const v = i < 0 ? '' : decodeURIComponent(p.slice(i + 1).replace(/\+/g, ' '));
      return [awsEscape(k, false), awsEscape(v, false)] as const;
    });
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export function signV4(
  headers: Record<string, string>,
  method: string,
  url: URL,
  body: Buffer,
  service: string,
  creds: { accessKey: string; secretKey: string; region: string; sessionToken: string },
  at: Date,
  disablePayloadSigning: boolean,
  rawUrl: string = url.href,
): { authorization: string; awsHeaders: Record<string, string> } {
  const iso = at.toISOString();
  const amzDate = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const dateStamp = amzDate.slice(0, 8);
  const payloadHash = disablePayloadSigning ? 'UNSIGNED-PAYLOAD' : sha256(body);
  const awsHeaders: Record<string, string> = { host: url.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
  if (creds.sessionToken) awsHeaders['x-amz-security-token'] = creds.sessionToken;
  // Headers given in the request are signed as given, even x-amz-* ones (OPA does the same),
  // while the returned headers carry the computed values.
  const all = new Map<string, string>(Object.entries(awsHeaders));
  for (const [k, v] of Object.entries(headers)) all.set(k.toLowerCase(), v.trim());
  const names = [...all.keys()].sort();
  const canonicalHeaders = names.map((n) => `${n}:${all.get(n)}\n`).join('');
  const signedHeaders = names.join(';');
  // Go's url.URL keeps an absent path empty (JS's URL says "/"); OPA signs it as it is.
  const rawPath = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(url.href === rawUrl ? url.href : rawUrl)?.[1] ?? url.pathname;
  const path = service === 's3' ? rawPath : awsEscape(decodeURIComponent(rawPath), true);
  const canonicalRequest = [method, path, canonicalQuery(url.search), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${dateStamp}/${creds.region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${creds.secretKey}`, dateStamp);
  const kRegion = hmac(kDate, creds.region);
  const kService = hmac(kRegion, service);
  const kSigning = hmac(kService, 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKey}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`,
    awsHeaders,
  };
}

export const awsBuiltins: BuiltinTable = {
  'providers.aws.sign_req': (request, config, timeNs) => {
    const req = obj(NAME, request, 1);
    const cfg = obj(NAME, config, 1);
    const missing = REQUIRED_CONFIG.filter((k) => !(k in cfg));
    if (missing.length) throw operandError(NAME, 2, `missing required AWS config parameters(s): ${goSet(missing)}`);
    const invalid = REQUIRED_CONFIG.filter((k) => typeof cfg[k] !== 'string');
    if (invalid.length) throw operandError(NAME, 2, `invalid values for required AWS config parameters(s): ${goSet(invalid)}`);
    // A number whose text is not an integer literal (OPA: ast.Number.Int64() fails on "-1e9").
    if (timeNs instanceof RawNumber) throw operandError(NAME, 3, 'could not convert time_ns value into a unix timestamp');
    if (typeof timeNs !== 'number' && typeof timeNs !== 'bigint') throw typeError(NAME, 1, timeNs, 'number');
    // int64 nanoseconds; through the planner they arrive exact (bigint beyond 2^53)
    const ns = typeof timeNs === 'bigint' ? timeNs : Number.isInteger(timeNs) && Math.abs(timeNs) < 2 ** 63 ? BigInt(timeNs) : undefined;
    if (ns === undefined || ns >= 2n ** 63n || ns < -(2n ** 63n)) throw operandError(NAME, 3, 'could not convert time_ns value into a unix timestamp');
    const missingReq = ['method', 'url'].filter((k) => !(k in req));
    if (missingReq.length) throw operandError(NAME, 1, `missing required request parameters(s): ${goSet(missingReq)}`);
    let headers: Record<string, unknown> = {};
    if (req.headers !== undefined) {
      if (!req.headers || typeof req.headers !== 'object' || Array.isArray(req.headers)) throw typeError(NAME, 0, req.headers, 'object');
      headers = req.headers as Record<string, unknown>;
    }
    const invalidReq = ['method', 'url'].filter((k) => typeof req[k] !== 'string');
    if (invalidReq.length) throw operandError(NAME, 1, `invalid values for required request parameters(s): ${goSet(invalidReq)}`);
    let url: URL;
    try {
      url = new URL(req.url as string);
    } catch {
      throw builtinError(NAME, `parse ${JSON.stringify(req.url)}: invalid URL`);
    }
    const body =
      req.raw_body !== undefined
        ? Buffer.from(typeof req.raw_body === 'string' ? req.raw_body : '')
        : req.body !== undefined
          ? Buffer.from(goJSON(req.body))
          : Buffer.alloc(0);
    let disable = false;
    if (cfg.disable_payload_signing !== undefined) {
      if (typeof cfg.disable_payload_signing !== 'boolean') throw operandError(NAME, 2, "invalid value for 'disable_payload_signing' in AWS config");
      disable = cfg.disable_payload_signing;
    }
    const headerStrings: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) headerStrings[k] = typeof v === 'string' ? v : '';
    const creds = {
      accessKey: cfg.aws_access_key as string,
      secretKey: cfg.aws_secret_access_key as string,
      region: cfg.aws_region as string,
      sessionToken: typeof cfg.aws_session_token === 'string' ? cfg.aws_session_token : '',
    };
    const at = new Date(Number(ns / 1000000n) - (ns < 0n && ns % 1000000n !== 0n ? 1 : 0));
    const { authorization, awsHeaders } = signV4(headerStrings, req.method as string, url, body, cfg.aws_service as string, creds, at, disable, req.url as string);
    return { ...req, headers: { ...headerStrings, Authorization: authorization, ...awsHeaders } };
  },
};
