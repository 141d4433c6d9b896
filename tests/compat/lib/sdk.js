'use strict';
// The official Alibaba Cloud Node.js SDK clients, pointed at an emulator, plus the assertions every
// compat test shares. Keys and UIDs are the ones of the reference wire captures (sdk-tools/capture.js),
// seeded by ../seed.json.
const assert = require('node:assert/strict');
const path = require('node:path');

const NM = path.join(__dirname, '..', 'node_modules', '@alicloud') + '/';
const RAM = require(NM + 'ram20150501');
const ECS = require(NM + 'ecs20140526');
const STS = require(NM + 'sts20150401');
const KMS = require(NM + 'kms20160120');
const RpcClient = require(NM + 'rpc-client'); // the Config of kms20160120's legacy client
const OpenApi = require(NM + 'openapi-core');
const { $OpenApiUtil, OpenApiUtil } = OpenApi;
const $dara = require(path.join(__dirname, '..', 'node_modules', '@darabonba', 'typescript')); // RuntimeOptions
const Credential = require(NM + 'credentials').default;
const $Credential = require(NM + 'credentials');

const UID = '1234567890123456';
const AK = 'LTAI5tTestAccessKeyId01';
const SK = 'TestAccessKeySecret0123456789ab';
// AK above is seeded as RAM user share-daemon's key (root AccessKeys may not AssumeRole); this is root's.
const ROOT_AK = 'LTAI5tCompatRootKey0001';
const ROOT_SK = 'CompatRootSecret0123456789abcd';
const ROOT = { accessKeyId: ROOT_AK, accessKeySecret: ROOT_SK };
// Root key of recipient account 1111111111111111.
// Root key of external account 9999999999999999 (outside the resource directory).
const EXTERNAL = { accessKeyId: 'LTAI5tCompatExternal001', accessKeySecret: 'CompatExternalSecret0123456789a' };
const RECIPIENT = { accessKeyId: 'LTAI5tCompatRecipient01', accessKeySecret: 'CompatRecipientSecret0123456789' };
const STS_AK = 'STS.NTestTemporaryKeyId0001';
const STS_SK = 'TestTemporarySecretXyz987654321';
const STS_TOKEN = 'CAIS+gF1q6Ft5B2yfSjIr5fSLo3+/rlt0/aaa==';
const REGION = 'cn-hangzhou';

// Signing modes: openapi-core signs V3 (ACS3-HMAC-SHA256) unless signatureAlgorithm is 'v2' (V1 HMAC-SHA1).
const MODES = ['V3', 'V1'];

// Codes that mean "the gateway refused who you are", as opposed to a business answer.
const AUTH_CODES = new Set([
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidAccessKeyId.NotFound',
  'InvalidAccessKeyId.Inactive',
  'SignatureNonceUsed',
  'InvalidTimeStamp.Expired',
  'InvalidTimeStamp.Format',
  'InvalidSecurityToken.Expired',
  'InvalidSecurityToken.Malformed',
  'InvalidSecurityToken.MismatchWithAccessKey',
  'MissingSignature',
  'MissingAccessKeyId',
]);

function config(emu, mode, creds = {}, extra = {}) {
  const c = {
    accessKeyId: creds.accessKeyId ?? AK,
    accessKeySecret: creds.accessKeySecret ?? SK,
    endpoint: emu.hostPort,
    protocol: emu.protocol,
    regionId: REGION,
    readTimeout: 15000,
    connectTimeout: 5000,
    ...extra,
  };
  if (creds.securityToken) c.securityToken = creds.securityToken;
  if (mode === 'V1') c.signatureAlgorithm = 'v2';
  // openapi-core's own `ca` option (the runner also sets NODE_EXTRA_CA_CERTS for the clients that have none).
  if (emu.ca) c.ca = emu.ca;
  return new $OpenApiUtil.Config(c);
}

// Keeps the JSON body exactly as it came off the wire (before $dara.cast coerces types), so tests can
// check that the emulator sends e.g. numbers where the real API sends numbers.
function recordRaw(client) {
  const callApi = client.callApi.bind(client);
  client.callApi = async (...args) => {
    const r = await callApi(...args);
    client.lastRaw = r.body;
    return r;
  };
  return client;
}

const clients = {
  ram: (emu, mode, creds) => recordRaw(new RAM.default(config(emu, mode, creds))),
  ecs: (emu, mode, creds) => recordRaw(new ECS.default(config(emu, mode, creds))),
  sts: (emu, mode, creds) => recordRaw(new STS.default(config(emu, mode, creds))),
  openapi: (emu, mode, creds) => recordRaw(new OpenApi.default(config(emu, mode, creds))),
  // kms20160120@1.2.0 is the legacy rpc-client generation: V1 only, and it needs an explicit endpoint
  // (without one it builds `undefined.<region>.aliyuncs.com`).
  kms: (emu, creds = {}) =>
    new KMS.default(
      new RpcClient.Config({
        accessKeyId: creds.accessKeyId ?? AK,
        accessKeySecret: creds.accessKeySecret ?? SK,
        securityToken: creds.securityToken,
        endpoint: emu.hostPort,
        protocol: emu.protocol,
        regionId: REGION,
        readTimeout: 15000,
        connectTimeout: 5000,
      }),
    ),
};

// A Resource Sharing (or any RPC) call through openapi-core's generic callApi, the way generated SDKs
// do it: repeat lists flattened to Name.N(.Field) in the query, empty body.
async function callRpc(client, product, action, query, { method = 'POST', body } = {}) {
  const versions = {
    ResourceSharing: '2020-01-10',
    ResourceManager: '2020-03-31',
    Kms: '2016-01-20',
    Ram: '2015-05-01',
    Ecs: '2014-05-26',
    Sts: '2015-04-01',
  };
  const params = new $OpenApiUtil.Params({
    action,
    version: versions[product],
    protocol: 'HTTPS',
    pathname: '/',
    method,
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  // `body` goes out as application/x-www-form-urlencoded (pop-core's placement; V3 hashes it, V1 signs
  // its parameters together with the query's).
  const req = new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(query || {}), body: body ? OpenApiUtil.query(body) : undefined });
  const r = await client.callApi(params, req, new $dara.RuntimeOptions({}));
  return r.body;
}

// Asserts that `promise` rejects with the SDK's mapped error for `code` (and `statusCode` when given);
// returns the error. openapi-core maps Throttling* to ThrottlingError, 4xx to ClientError, 5xx to
// ServerError, with `.code`, `.statusCode`, `.data` (the body) and `.requestId`.
async function expectSdkError(promise, { code, statusCode, name }) {
  let err;
  try {
    const r = await promise;
    assert.fail(`expected error ${code}, got success: ${JSON.stringify(r && (r.body ?? r)).slice(0, 400)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.equal(err.code, code, `error code (message: ${err.message})`);
  if (statusCode !== undefined) assert.equal(err.statusCode, statusCode, `HTTP status of ${code}`);
  const expectedName = name ?? (/Throttling/.test(code) ? 'ThrottlingError' : statusCode >= 500 ? 'ServerError' : 'ClientError');
  assert.equal(err.name, expectedName);
  assert.equal(typeof err.data, 'object', 'error body parsed');
  assert.equal(err.data.Code, code);
  assert.equal(typeof err.data.Message, 'string');
  assert.ok(err.data.RequestId, 'error body has RequestId');
  assert.ok(err.data.HostId, 'error body has HostId');
  if (err.data.Recommend !== undefined) {
    assert.ok(err.data.Recommend.startsWith(`https://api.aliyun.com/troubleshoot?q=${code}`), `Recommend: ${err.data.Recommend}`);
  }
  return err;
}

// The legacy rpc-client (KMS) throws `${Code}Error` with `.data` = body.
async function expectRpcClientError(promise, code) {
  let err;
  try {
    await promise;
    assert.fail(`expected error ${code}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.equal(err.code, `${code}Error`, err.message);
  assert.equal(err.data.Code, code);
  return err;
}

// Walks the raw JSON body against the SDK model's declared field types (names()/types()) and returns
// every mismatch as "Path: expected T, got U". The SDK's cast would silently coerce "123" to 123 and
// 1 to true, hiding a wrong type that a stricter client (ours, in C++) would trip on.
function typeMismatches(raw, ModelClass, where = '') {
  const out = [];
  if (raw === null || typeof raw !== 'object') return out;
  const names = ModelClass.names();
  const types = ModelClass.types();
  for (const key of Object.keys(names)) {
    const wire = names[key];
    const value = raw[wire];
    if (value === undefined || value === null) continue;
    const t = types[key];
    const p = where ? `${where}.${wire}` : wire;
    if (typeof t === 'string') {
      if (['any', 'map', 'Readable', 'Writable', 'Buffer'].includes(t)) continue;
      if (typeof value !== t) out.push(`${p}: expected ${t}, got ${typeof value} ${JSON.stringify(value)}`);
    } else if (t && t.type === 'array') {
      if (!Array.isArray(value)) {
        out.push(`${p}: expected array, got ${typeof value}`);
        continue;
      }
      value.forEach((item, i) => {
        if (typeof t.itemType === 'function' && typeof t.itemType.names === 'function') {
          out.push(...typeMismatches(item, t.itemType, `${p}[${i}]`));
        } else if (typeof t.itemType === 'string' && t.itemType !== 'any' && typeof item !== t.itemType) {
          out.push(`${p}[${i}]: expected ${t.itemType}, got ${typeof item}`);
        }
      });
    } else if (t && t.type === 'map') {
      if (typeof value !== 'object') out.push(`${p}: expected object, got ${typeof value}`);
    } else if (typeof t === 'function' && typeof t.names === 'function') {
      if (typeof value !== 'object' || Array.isArray(value)) out.push(`${p}: expected object, got ${typeof value}`);
      else out.push(...typeMismatches(value, t, p));
    }
  }
  return out;
}

// Asserts that the last raw body of `client` has the types `BodyClass` declares.
function assertWireTypes(client, BodyClass) {
  assert.ok(client.lastRaw, 'no raw body recorded');
  assert.deepEqual(typeMismatches(client.lastRaw, BodyClass), [], `wire types of ${BodyClass.name}`);
}

// Policy documents compared the way docs/alibaba-api.md §10 says (RAM may re-serialise trust documents).
function canonicalPolicy(doc) {
  const d = typeof doc === 'string' ? JSON.parse(doc) : doc;
  const list = (v) => [...new Set((Array.isArray(v) ? v : [v]).map(String))].sort();
  const stmts = (d.Statement || []).map((s) => {
    const o = { Effect: s.Effect };
    if (s.Action !== undefined) o.Action = list(s.Action).map((a) => a.toLowerCase());
    if (s.NotAction !== undefined) o.NotAction = list(s.NotAction).map((a) => a.toLowerCase());
    if (s.Resource !== undefined) o.Resource = list(s.Resource);
    if (s.Principal !== undefined) {
      o.Principal = Object.fromEntries(
        Object.keys(s.Principal)
          .map((k) => [k.toUpperCase(), list(s.Principal[k]).map((v) => (k.toUpperCase() === 'SERVICE' ? v.toLowerCase() : v))])
          .sort(),
      );
    }
    if (s.Condition !== undefined) {
      o.Condition = Object.fromEntries(
        Object.keys(s.Condition)
          .sort()
          .map((op) => [op, Object.fromEntries(Object.keys(s.Condition[op]).sort().map((k) => [k, list(s.Condition[op][k])]))]),
      );
    }
    return JSON.stringify(o);
  });
  return JSON.stringify({ Version: String(d.Version), Statement: stmts.sort() });
}

function assertSamePolicy(actual, expected, what = 'policy document') {
  assert.equal(typeof actual, 'string', `${what} is a JSON string field`);
  assert.equal(canonicalPolicy(actual), canonicalPolicy(expected), what);
}

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UID_RE = /^\d{16}$/;

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Polls fn() until it returns a truthy value (returned) or the deadline passes (throws with the last value).
async function pollUntil(fn, { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last && last.done) return last.value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last && last.value).slice(0, 500)}`);
    await sleep(intervalMs);
  }
}

module.exports = {
  RAM,
  ECS,
  STS,
  KMS,
  OpenApi,
  $OpenApiUtil,
  OpenApiUtil,
  Credential,
  $Credential,
  UID,
  AK,
  SK,
  ROOT_AK,
  ROOT_SK,
  ROOT,
  RECIPIENT,
  EXTERNAL,
  STS_AK,
  STS_SK,
  STS_TOKEN,
  REGION,
  MODES,
  AUTH_CODES,
  config,
  clients,
  callRpc,
  expectSdkError,
  expectRpcClientError,
  typeMismatches,
  assertWireTypes,
  canonicalPolicy,
  assertSamePolicy,
  ISO_SECONDS,
  UID_RE,
  sleep,
  pollUntil,
};
