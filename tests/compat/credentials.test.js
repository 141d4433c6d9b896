'use strict';
// The @alicloud/credentials providers that talk to STS themselves (ram_role_arn: V1-signed AssumeRole
// with a form body; oidc_role_arn: anonymous AssumeRoleWithOIDC) against the emulator. They hard-code
// https, so this file needs the runner's TLS emulator (run.js --tls sets NODE_EXTRA_CA_CERTS).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const seed = require('./seed.json');
const { emulatorForFile } = require('./lib/emulator');
const S = require('./lib/sdk');
const { known } = require('./lib/deviations');

const { UID, STS, Credential, $Credential } = S;
const tls = (process.env.COMPAT_ENDPOINT || '').startsWith('https://');
const roleArn = `acs:ram::${UID}:role/share-daemon`;

const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('@alicloud/credentials providers over HTTPS', { skip: tls ? false : 'needs run.js --tls (the providers hard-code https)' }, () => {
  let emu;
  let dir;
  before(async () => {
    emu = await emulatorForFile(seed);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sk-compat-oidc-'));
  });
  after(async () => {
    if (emu) await emu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function identityWith(credential, mode) {
    const cfg = S.config(emu, mode, { accessKeyId: 'unused', accessKeySecret: 'unused' });
    delete cfg.accessKeyId;
    delete cfg.accessKeySecret;
    cfg.credential = credential;
    const client = new STS.default(cfg);
    return (await client.getCallerIdentity()).body;
  }

  it('ram_role_arn: AssumeRole (V1, form body) and the session signs V3 and V1 calls', known('credentials.ram_role_arn'), async () => {
    const c = new Credential(
      new $Credential.Config({
        type: 'ram_role_arn',
        accessKeyId: S.AK,
        accessKeySecret: S.SK,
        roleArn,
        roleSessionName: 'compat-provider',
        roleSessionExpiration: 900,
        stsEndpoint: emu.hostPort,
      }),
    );
    const m = await c.getCredential();
    assert.match(m.accessKeyId, /^STS\./);
    assert.ok(m.accessKeySecret);
    assert.ok(m.securityToken);
    for (const mode of S.MODES) {
      const id = await identityWith(c, mode);
      assert.equal(id.identityType, 'AssumedRoleUser', mode);
      assert.equal(id.accountId, UID);
      assert.equal(id.arn, `acs:ram::${UID}:assumed-role/share-daemon/compat-provider`);
    }
  });

  it('oidc_role_arn: anonymous AssumeRoleWithOIDC with the token file', known('credentials.oidc_role_arn'), async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64url({ alg: 'RS256' })}.${b64url({
      iss: 'https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c123',
      sub: 'system:serviceaccount:sharekeeper:daemon',
      aud: 'sts.aliyuncs.com',
      iat: now,
      exp: now + 3600,
    })}.c2ln`;
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, token);
    const c = new Credential(
      new $Credential.Config({
        type: 'oidc_role_arn',
        roleArn,
        oidcProviderArn: `acs:ram::${UID}:oidc-provider/ack-rrsa-c123`,
        oidcTokenFilePath: tokenFile,
        roleSessionName: 'compat-oidc',
        stsEndpoint: emu.hostPort,
      }),
    );
    const m = await c.getCredential();
    assert.match(m.accessKeyId, /^STS\./);
    const id = await identityWith(c, 'V3');
    assert.equal(id.arn, `acs:ram::${UID}:assumed-role/share-daemon/compat-oidc`);
  });

  it('oidc_role_arn with an unknown OIDC provider is refused', known('credentials.oidc_role_arn.unknown'), async () => {
    const tokenFile = path.join(dir, 'token2');
    fs.writeFileSync(tokenFile, `${b64url({ alg: 'RS256' })}.${b64url({ sub: 'x' })}.c2ln`);
    const c = new Credential(
      new $Credential.Config({
        type: 'oidc_role_arn',
        roleArn,
        oidcProviderArn: `acs:ram::${UID}:oidc-provider/not-there`,
        oidcTokenFilePath: tokenFile,
        roleSessionName: 'compat-oidc',
        stsEndpoint: emu.hostPort,
      }),
    );
    await assert.rejects(c.getCredential(), /not-there|OIDCProvider|EntityNotExist/);
  });
});
