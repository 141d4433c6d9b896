'use strict';
// The binary's contract as a user meets it (docs/contract.md §3.5): port 0, the `listening on` line, the
// port file, TLS with --cert-out, the admin API, a clean stop on SIGTERM, a clear error for a bad seed.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const seed = require('./seed.json');
const { startEmulator, rawRequest } = require('./lib/emulator');
const S = require('./lib/sdk');
const { known } = require('./lib/deviations');

describe('sharekeeper-emulator process', () => {
  it('listens on 127.0.0.1:0 over HTTP, writes --port-file, serves the admin API, stops cleanly on SIGTERM', known('lifecycle.http'), async () => {
    const emu = await startEmulator({ seed });
    try {
      assert.match(emu.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const st = await emu.state();
      assert.deepEqual(
        st.accounts.map((a) => a.uid).sort(),
        seed.accounts.map((a) => a.uid).sort(),
      );
      assert.ok(!JSON.stringify(st).includes(S.SK), 'no secret in /_emulator/state');
      const r = await S.clients.sts(emu, 'V3').getCallerIdentity();
      assert.equal(r.body.accountId, S.UID);
    } finally {
      const stopped = await emu.stop();
      assert.deepEqual(stopped, { code: 0, signal: null }, 'exit code 0 after SIGTERM');
    }
  });

  it('--tls-self-signed serves HTTPS with the certificate written by --cert-out', known('lifecycle.tls'), async () => {
    const emu = await startEmulator({ seed, tls: true });
    try {
      assert.match(emu.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const cert = new crypto.X509Certificate(emu.ca);
      assert.ok(cert.checkIP('127.0.0.1'), `certificate covers 127.0.0.1 (subjectAltName: ${cert.subjectAltName})`);
      // Verified TLS with only the written certificate trusted, through openapi-core's `ca` option.
      const r = await S.clients.sts(emu, 'V1').getCallerIdentity();
      assert.equal(r.body.accountId, S.UID);
      // And an untrusting client is refused (the certificate really is checked).
      await assert.rejects(rawRequest(emu.url, { path: '/_emulator/state' }), /self[- ]signed|certificate/i);
    } finally {
      const stopped = await emu.stop();
      assert.deepEqual(stopped, { code: 0, signal: null });
    }
  });

  it('a malformed seed is a clear error and a non-zero exit, not a crash', known('lifecycle.bad-seed'), () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sk-compat-seed-'));
    try {
      const file = path.join(dir, 'seed.json');
      fs.writeFileSync(file, JSON.stringify({ accounts: [{ uid: 1234 }] }));
      const r = spawnSync(process.env.SHAREKEEPER_EMULATOR, ['--listen', '127.0.0.1:0', '--seed', file], { encoding: 'utf8', timeout: 20000 });
      assert.equal(r.signal, null, 'not killed by a signal');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /accounts\[0\]\.uid/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('STS credentials are accepted until their Expiration, then InvalidSecurityToken.Expired', known('lifecycle.sts-expiry'), async () => {
    // A copy of the suite's seed whose STS key expires a minute from now; the emulated clock is then
    // moved two minutes ahead (well inside the ±15 min signature window).
    const s = JSON.parse(JSON.stringify(seed));
    const key = s.accounts[0].accessKeys.find((k) => k.id === S.STS_AK);
    key.expiration = new Date(Date.now() + 60e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const emu = await startEmulator({ seed: s });
    try {
      const creds = { accessKeyId: S.STS_AK, accessKeySecret: S.STS_SK, securityToken: S.STS_TOKEN };
      for (const mode of S.MODES) {
        const r = await S.clients.sts(emu, mode, creds).getCallerIdentity();
        assert.equal(r.body.accountId, S.UID, mode);
      }
      await emu.admin('POST', 'clock', { offsetSeconds: 120 });
      for (const mode of S.MODES) {
        await S.expectSdkError(S.clients.sts(emu, mode, creds).getCallerIdentity(), { code: 'InvalidSecurityToken.Expired' });
      }
    } finally {
      await emu.stop();
    }
  });
});
