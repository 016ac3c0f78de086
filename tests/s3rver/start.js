#!/usr/bin/env node
'use strict';

// Starts s3rver for the S3 tests and, in front of it, a strict check of AWS
// Signature Version 4 (s3rver itself only looks at the access key of a V4
// request). Bodies are not hashed: uploads are streamed through untouched.
//
//   node start.js --directory DIR [--address 127.0.0.1] [--port 0]
//                 [--bucket NAME]... [--access-key S3RVER] [--secret-key S3RVER]
//
// Prints "S3RVER_READY <port>" once it accepts connections and runs until
// killed or its stdin closes.

const crypto = require('crypto');
const S3rver = require('s3rver');

function parseArgs(argv) {
  const options = {
    address: '127.0.0.1',
    port: 0,
    directory: undefined,
    buckets: [],
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
  };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--address': options.address = value; i++; break;
      case '--port': options.port = Number(value); i++; break;
      case '--directory': options.directory = value; i++; break;
      case '--bucket': options.buckets.push(value); i++; break;
      case '--access-key': options.accessKey = value; i++; break;
      case '--secret-key': options.secretKey = value; i++; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!options.directory) throw new Error('--directory is required');
  return options;
}

const rfc3986 = text =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );

const sha256 = data => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

function canonicalPath(rawPath) {
  return rawPath
    .split('/')
    .map(segment => rfc3986(decodeURIComponent(segment)))
    .join('/');
}

// [name, value] pairs of the raw query string, decoded ('+' stays a plus).
function queryPairs(rawQuery) {
  return rawQuery
    .split('&')
    .filter(item => item.length > 0)
    .map(item => {
      const eq = item.indexOf('=');
      const name = eq < 0 ? item : item.slice(0, eq);
      const value = eq < 0 ? '' : item.slice(eq + 1);
      return [decodeURIComponent(name), decodeURIComponent(value)];
    });
}

function canonicalQuery(pairs) {
  return pairs
    .map(([name, value]) => [rfc3986(name), rfc3986(value)])
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function expectedSignature(secret, scope, amzDate, canonicalRequest) {
  const [date, region, service] = scope.split('/');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    sha256(canonicalRequest),
  ].join('\n');
  let key = hmac('AWS4' + secret, date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  return hmac(key, stringToSign).toString('hex');
}

class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function verify(ctx, options) {
  const req = ctx.req;
  const rawUrl = req.url;
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const pairs = queryPairs(q < 0 ? '' : rawUrl.slice(q + 1));
  const queryValue = name => {
    const pair = pairs.find(p => p[0] === name);
    return pair ? pair[1] : undefined;
  };
  const authorization = req.headers['authorization'];
  const presigned = queryValue('X-Amz-Algorithm') !== undefined;
  if (!authorization && !presigned) {
    throw new AuthError('AccessDenied', 'Anonymous access is not allowed');
  }

  let credential, signedHeaders, signature, amzDate, payloadHash, signedPairs;
  if (presigned) {
    if (queryValue('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
      throw new AuthError('AuthorizationQueryParametersError', 'Unsupported algorithm');
    }
    credential = queryValue('X-Amz-Credential') || '';
    signedHeaders = queryValue('X-Amz-SignedHeaders') || '';
    signature = queryValue('X-Amz-Signature') || '';
    amzDate = queryValue('X-Amz-Date') || '';
    payloadHash = 'UNSIGNED-PAYLOAD';
    signedPairs = pairs.filter(p => p[0] !== 'X-Amz-Signature');
    const expires = Number(queryValue('X-Amz-Expires'));
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!m || !(expires > 0)) {
      throw new AuthError('AuthorizationQueryParametersError', 'Bad X-Amz-Date or X-Amz-Expires');
    }
    const start = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    if (Date.now() > start + expires * 1000) {
      throw new AuthError('AccessDenied', 'Request has expired');
    }
  } else {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)$/.exec(
      authorization,
    );
    if (!m) {
      throw new AuthError('AuthorizationHeaderMalformed', 'Unsupported Authorization header');
    }
    [, credential, signedHeaders, signature] = m;
    amzDate = req.headers['x-amz-date'] || '';
    payloadHash = req.headers['x-amz-content-sha256'];
    if (!payloadHash) {
      throw new AuthError('InvalidRequest', 'Missing required header x-amz-content-sha256');
    }
    signedPairs = pairs;
  }

  const slash = credential.indexOf('/');
  const accessKey = credential.slice(0, slash);
  const scope = credential.slice(slash + 1);
  if (accessKey !== options.accessKey) {
    throw new AuthError(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    );
  }
  const headerNames = signedHeaders.split(';');
  if (!headerNames.includes('host')) {
    throw new AuthError('AccessDenied', 'The host header must be signed');
  }
  if (!presigned && !headerNames.includes('x-amz-date')) {
    throw new AuthError('AccessDenied', 'The x-amz-date header must be signed');
  }
  const canonicalHeaders = headerNames
    .map(name => {
      const value = req.headers[name];
      if (value === undefined) {
        throw new AuthError('AccessDenied', `Signed header ${name} is missing`);
      }
      return `${name}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [
    req.method,
    canonicalPath(rawPath),
    canonicalQuery(signedPairs),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const expected = expectedSignature(options.secretKey, scope, amzDate, canonicalRequest);
  if (expected !== signature) {
    throw new AuthError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. ' +
        'Check your key and signing method.',
    );
  }
}

function xmlEscape(text) {
  return text.replace(/[<>&"']/g, c => `&#${c.charCodeAt(0)};`);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const server = new S3rver({
    address: options.address,
    port: options.port,
    directory: options.directory,
    silent: true,
    configureBuckets: options.buckets.map(name => ({ name })),
  });
  server.middleware.unshift(async (ctx, next) => {
    try {
      verify(ctx, options);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      ctx.status = 403;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' +
        xmlEscape(err.code) +
        '</Code><Message>' +
        xmlEscape(err.message) +
        '</Message></Error>';
      // The request body is not wanted; let the connection drain it.
      ctx.req.resume();
      return;
    }
    await next();
  });
  const address = await server.run();
  process.stdout.write(`S3RVER_READY ${address.port}\n`);
  // Stop with the test even if it could not kill us.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch(err => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
