'use strict';
// Replays every signed request of reference/sdk-wire-captures.json (what the official SDK and the
// @alicloud/credentials providers really put on the wire) byte for byte against the emulator, with the
// emulator's clock moved to the capture's time so the ±15 min window holds. Then tampered copies must
// fail with SignatureDoesNotMatch, a second identical send with SignatureNonceUsed, and a send outside
// the window with InvalidTimeStamp.Expired.
//
// The captures were answered by a canned loopback server, so a recorded response is the expected one
// only where the emulator's state makes it so; EXPECT says, per capture, what this seed should give.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const seed = require('./seed.json');
const { startEmulator } = require('./lib/emulator');
const S = require('./lib/sdk');
const { known } = require('./lib/deviations');

const capturesFile =
  process.env.COMPAT_CAPTURES || path.resolve(__dirname, '..', 'data', 'reference', 'sdk-wire-captures.json');
const { captures } = JSON.parse(fs.readFileSync(capturesFile, 'utf8'));
const UID = S.UID;

// Expected outcome per capture label: HTTP status, error code, and a check of the JSON body.
const EXPECT = {
  'ram.CreateRole default(V3)': {
    status: 200,
    check: (b) => {
      assert.equal(b.Role.RoleName, 'AliyunECSShareEncryptSnapshotDefaultRole');
      assert.equal(b.Role.Description, 'share encrypted snapshots');
      S.assertSamePolicy(b.Role.AssumeRolePolicyDocument, {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: [`${UID}@ecs.aliyuncs.com`] } }],
        Version: '1',
      });
    },
  },
  // The V3 replay just created the role (the capture server answered 200 from a script).
  'ram.CreateRole signatureAlgorithm=v2 (V1)': { status: 409, code: 'EntityAlreadyExists.Role' },
  'ecs.ModifyImageSharePermission default(V3)': { status: 200 },
  'ecs.ModifyImageSharePermission signatureAlgorithm=v2 (V1)': {
    status: 200,
    after: async (emu) => {
      const st = await emu.state();
      const img = st.accounts.find((a) => a.uid === UID).regions['cn-hangzhou'].images.find((i) => i.imageId === 'm-bp1testimage0001');
      assert.deepEqual([...img.sharedWith].sort(), ['1111111111111111', '2222222222222222']);
    },
  },
  // The seed makes LTAI5tTestAccessKeyId01 RAM user share-daemon's key (the capture server said AssumedRoleUser).
  'sts.GetCallerIdentity default(V3)': {
    status: 200,
    check: (b) => {
      assert.equal(b.AccountId, UID);
      assert.equal(b.IdentityType, 'RAMUser');
      assert.equal(b.Arn, `acs:ram::${UID}:user/share-daemon`);
    },
  },
  'sts.GetCallerIdentity STS token default(V3)': { status: 200, check: (b) => checkStsIdentity(b) },
  'sts.GetCallerIdentity STS token signatureAlgorithm=v2 (V1)': { status: 200, check: (b) => checkStsIdentity(b) },
  'sts.AssumeRoleWithOIDC default (anonymous, no signature)': { status: 200, check: (b) => checkCredentials(b, 'share-daemon') },
  'ecs.DescribeSnapshots default(V3) tags+SnapshotIds': {
    status: 200,
    check: (b) => {
      assert.equal(b.TotalCount, 1);
      assert.equal(b.Snapshots.Snapshot[0].SnapshotId, 's-bp1aaaa');
      assert.equal(b.Snapshots.Snapshot[0].Encrypted, true);
    },
  },
  'ram.CreatePolicyVersion default(V3)': {
    status: 200,
    check: (b) => {
      assert.equal(b.PolicyVersion.VersionId, 'v2');
      assert.equal(b.PolicyVersion.IsDefaultVersion, true);
    },
  },
  'ram.TagResources default(V3) JSON-style list params': {
    status: 200,
    after: async (emu) => {
      const st = await emu.state();
      const role = st.accounts.find((a) => a.uid === UID).roles.find((r) => r.name === 'AliyunECSShareEncryptSnapshotDefaultRole');
      assert.deepEqual(role.tags, { 'managed-by': 'share-daemon' });
    },
  },
  'ram.GetRole -> 404 EntityNotExist.Role': { status: 404, code: 'EntityNotExist.Role' },
  // The capture server throttled this one; a fault rule makes the emulator do the same.
  'ram.ListRoles -> 400 Throttling.User': {
    status: 400,
    code: 'Throttling.User',
    before: (emu) => emu.addFault({ action: 'ListRoles', probability: 1, code: 'Throttling.User', status: 400 }),
    after: (emu) => emu.clearFaults(),
  },
  'credentials ram_role_arn -> STS AssumeRole': { status: 200, check: (b) => checkCredentials(b, 'share-daemon') },
  'credentials oidc_role_arn -> STS AssumeRoleWithOIDC': { status: 200, check: (b) => checkCredentials(b, 'share-daemon') },
};

function checkStsIdentity(b) {
  assert.equal(b.AccountId, UID);
  assert.equal(b.IdentityType, 'AssumedRoleUser');
  assert.equal(b.Arn, `acs:ram::${UID}:assumed-role/daemon/session`);
}

function checkCredentials(b, session) {
  assert.match(b.Credentials.AccessKeyId, /^STS\./);
  assert.ok(b.Credentials.AccessKeySecret);
  assert.ok(b.Credentials.SecurityToken);
  assert.match(b.Credentials.Expiration, S.ISO_SECONDS);
  assert.equal(b.AssumedRoleUser.Arn.toLowerCase(), `acs:ram::${UID}:role/share-daemon/${session}`);
}

// Where the capture keeps its timestamp: x-acs-date (V3) or the Timestamp parameter (V1, anonymous).
function captureTime(c) {
  const t = c.headers['x-acs-date'] || c.query_decoded.Timestamp || (c.body_decoded && c.body_decoded.Timestamp);
  assert.ok(t, `no timestamp in capture ${c.label}`);
  return t;
}

const isSigned = (c) => c.signature_check.scheme === 'V3' || c.signature_check.scheme === 'V1';
// The credentials-URI capture is a GET to the user's own credentials server, not an Alibaba API.
const isApiCall = (c) => c.path === '/' && c.action;

function shift(iso, seconds) {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// Replaces the raw value of `name` in a raw "a=1&b=2" string, keeping every other byte.
function replaceRawParam(raw, name, encodedValue) {
  let found = false;
  const out = raw
    .split('&')
    .map((kv) => {
      const eq = kv.indexOf('=');
      const k = eq < 0 ? kv : kv.slice(0, eq);
      if (decodeURIComponent(k) !== name) return kv;
      found = true;
      return `${k}=${encodedValue}`;
    })
    .join('&');
  assert.ok(found, `parameter ${name} not found`);
  return out;
}

function withQuery(url, fn) {
  const q = url.indexOf('?');
  assert.ok(q >= 0, 'url has a query');
  return url.slice(0, q + 1) + fn(url.slice(q + 1));
}

const kModels = { '2015-05-01': S.RAM, '2014-05-26': S.ECS, '2015-04-01': S.STS };

const kCommon = new Set([
  'Action', 'Format', 'Version', 'Timestamp', 'SignatureNonce', 'SignatureMethod', 'SignatureVersion', 'AccessKeyId', 'Signature', 'SecurityToken',
]);

// A copy with a fresh nonce (so a nonce check cannot answer first) and, when `param` is set, one
// business parameter changed: both are signed, so the signature no longer matches.
function tampered(c, { param } = {}) {
  const req = { method: c.method, url: c.url, headers: { ...c.headers }, body: c.body };
  const nonce = crypto.randomBytes(16).toString('hex');
  if (c.signature_check.scheme === 'V3') req.headers['x-acs-signature-nonce'] = nonce;
  else req.url = withQuery(req.url, (q) => replaceRawParam(q, 'SignatureNonce', nonce));
  if (param) {
    if (c.query_decoded[param] !== undefined) {
      req.url = withQuery(req.url, (q) => replaceRawParam(q, param, encodeURIComponent(`${c.query_decoded[param]}x`)));
    } else {
      req.body = replaceRawParam(req.body, param, encodeURIComponent(`${c.body_decoded[param]}x`));
      req.headers['content-length'] = String(Buffer.byteLength(req.body));
    }
  }
  return req;
}

function businessParam(c) {
  const names = [...Object.keys(c.query_decoded), ...Object.keys(c.body_decoded || {})].filter((k) => !kCommon.has(k));
  return names[0];
}

const send = (emu, c) => emu.send({ method: c.method, url: c.url, headers: c.headers, body: c.body });

function assertNotAuthError(r, label) {
  assert.ok(r.json, `${label}: JSON body (got ${r.status} ${r.text.slice(0, 200)})`);
  assert.ok(!S.AUTH_CODES.has(r.json.Code), `${label}: gateway refused it: ${r.json.Code}: ${r.json.Message}`);
}

describe('replay of reference/sdk-wire-captures.json', () => {
  let emu;
  // Moves the clock to a capture's time only when that time changes: setting it again would move it
  // back by the sub-second that has passed, before objects an earlier replay created in that second.
  let clockAt;
  const clockTo = async (iso) => {
    if (clockAt !== iso) await emu.setClock(iso);
    clockAt = iso;
  };
  before(async () => {
    emu = await startEmulator({ seed });
  });
  after(async () => {
    if (emu) await emu.stop();
  });

  it('the capture file holds every request the reference tools produced', () => {
    assert.ok(captures.length >= 16, `${captures.length} captures`);
    for (const c of captures.filter(isApiCall)) assert.ok(EXPECT[c.label], `no expectation for capture "${c.label}"`);
  });

  const gci = captures.find((c) => c.label === 'sts.GetCallerIdentity default(V3)');
  it('a signed request outside the ±15 min window is InvalidTimeStamp.Expired (and does not burn its nonce)', known('replay.window'), async () => {
    for (const skew of [16 * 60, -16 * 60]) {
      await emu.setClock(shift(captureTime(gci), skew));
      const r = await send(emu, gci);
      assert.equal(r.json && r.json.Code, 'InvalidTimeStamp.Expired', `skew ${skew}s: ${r.text}`);
      assert.equal(r.status, 400);
    }
    clockAt = undefined;
  });

  for (const c of captures) {
    if (!isApiCall(c)) {
      it(`replay: ${c.label}`, { skip: `${c.method} ${c.path} is not an Alibaba API request` }, () => {});
      continue;
    }
    const e = EXPECT[c.label] || {};
    it(`replay: ${c.label} [${c.signature_check.scheme}]`, known(`replay:${c.label}`), async () => {
      await clockTo(captureTime(c));
      if (e.before) await e.before(emu);
      let r;
      try {
        r = await send(emu, c);
      } finally {
        if (e.after && e.code) await e.after(emu);
      }
      assertNotAuthError(r, c.label);
      assert.ok(r.json.RequestId, 'RequestId');
      assert.equal(r.headers['content-type'], 'application/json;charset=utf-8');
      assert.equal(r.status, e.status, `${c.label}: status (body ${r.text.slice(0, 300)})`);
      if (e.code) assert.equal(r.json.Code, e.code);
      if (e.status === c.response_status && e.status >= 400) {
        assert.equal(r.json.Code, c.response_body.Code, 'the error the capture recorded');
      }
      if (e.check) e.check(r.json);
      // Whatever the SDK would parse out of this answer has the types its model declares.
      const version = c.headers['x-acs-version'] || c.query_decoded.Version;
      const Body = kModels[version] && kModels[version][`${c.action}ResponseBody`];
      if (r.status === 200 && Body) assert.deepEqual(S.typeMismatches(r.json, Body), [], 'wire types');
      if (e.after && !e.code) await e.after(emu);
    });
  }

  for (const c of captures.filter((x) => isApiCall(x) && isSigned(x))) {
    it(`tampered: ${c.label} [${c.signature_check.scheme}] fails with SignatureDoesNotMatch`, known(`tamper:${c.label}`), async () => {
      await clockTo(captureTime(c));
      const variants = [tampered(c)];
      const p = businessParam(c);
      if (p) variants.push(tampered(c, { param: p }));
      for (const v of variants) {
        const r = await emu.send(v);
        assert.equal(r.json && r.json.Code, 'SignatureDoesNotMatch', `${c.label}: ${r.status} ${r.text.slice(0, 300)}`);
        assert.equal(r.status, 400);
      }
      const again = await send(emu, c);
      assert.equal(again.json && again.json.Code, 'SignatureNonceUsed', `identical resend: ${again.text.slice(0, 300)}`);
    });
  }

  const v1 = captures.find((c) => isApiCall(c) && c.signature_check.scheme === 'V1' && c.method === 'POST');
  it('a V1 SignatureDoesNotMatch message carries the server string-to-sign', known('replay.v1-string-to-sign'), async () => {
    await clockTo(captureTime(v1));
    const t = tampered(v1);
    const r = await emu.send(t);
    assert.equal(r.json.Code, 'SignatureDoesNotMatch');
    const m = /server string to sign is:\s*(\S+)/.exec(r.json.Message);
    assert.ok(m, `message: ${r.json.Message}`);
    // The tampered nonce is what the server must have signed.
    const nonce = new URL(t.url, 'http://x').searchParams.get('SignatureNonce');
    assert.ok(m[1].includes(`SignatureNonce%3D${nonce}`), m[1]);
    assert.ok(!r.json.Message.includes(S.SK), 'no secret in the message');
  });

  const oidc = captures.find((c) => c.label.startsWith('sts.AssumeRoleWithOIDC'));
  it('an unsigned request for an action other than AssumeRoleWithOIDC/SAML is refused', known('replay.anonymous-refused'), async () => {
    await clockTo(captureTime(oidc));
    const url = oidc.url.replace('Action=AssumeRoleWithOIDC', 'Action=GetCallerIdentity').replace(/SignatureNonce=[^&]*/, `SignatureNonce=${crypto.randomBytes(8).toString('hex')}`);
    const headers = { ...oidc.headers, 'x-acs-action': 'GetCallerIdentity' };
    const r = await emu.send({ method: 'POST', url, headers, body: '' });
    assert.ok(r.status >= 400, `status ${r.status}: ${r.text}`);
    assert.ok(r.json && r.json.Code, 'error code');
  });
});
