'use strict';
// KMS DisableKey / EnableKey and ECS's use of the account's CMKs (CopySnapshot, which needs
// AliyunECSDiskEncryptDefaultRole) through the official SDK, as a user would break and mend the key
// link: the legacy kms20160120 client (V1) and openapi-core callApi (V3 and V1) for KMS,
// ecs20140526 for CopySnapshot, ram20150501 for the role, and GET /_emulator/access for the verdict.
// Runs on its own emulator: its seed is seed.json without the disk-encryption role, plus a key in a
// second region and a key pending deletion.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');

const baseSeed = require('./seed.json');
const { startEmulator } = require('./lib/emulator');
const S = require('./lib/sdk');
const { known } = require('./lib/deviations');

const { RAM, ECS, KMS, UID, REGION } = S;
const DEST = 'cn-shanghai';
const CMK = 'key-hzz63a1b2c3d4e5f6compat';
const DEST_CMK = 'key-shz6compatdest00001';
const PENDING = 'key-hzz6pendingdeletion01';
const DISK_ROLE = 'AliyunECSDiskEncryptDefaultRole';
const RECIPIENT = '1111111111111111';

function seed() {
  const s = JSON.parse(JSON.stringify(baseSeed));
  const sharer = s.accounts.find((a) => a.uid === UID);
  sharer.roles = sharer.roles.filter((r) => r.name !== DISK_ROLE);
  sharer.regions[REGION].kmsKeys.push({ keyId: PENDING, state: 'PendingDeletion' });
  sharer.regions[DEST].kmsKeys = [{ keyId: DEST_CMK, aliases: ['alias/compat-dest-cmk'] }];
  return s;
}

const ecsTrust = {
  Version: '1',
  Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } }],
};

let emu;
before(async () => {
  emu = await startEmulator({ seed: seed() });
});
after(async () => {
  if (emu) await emu.stop();
});

describe('KMS DisableKey / EnableKey via kms20160120@1.2.0 (rpc-client, V1)', () => {
  let kms;
  before(() => {
    kms = S.clients.kms(emu);
  });
  const stateOf = async (keyId) => (await kms.describeKey(new KMS.DescribeKeyRequest({ keyId }))).keyMetadata.keyState;

  it('DisableKey then EnableKey, each harmless to repeat', known('kms20160120.DisableKey'), async () => {
    const d = await kms.disableKey(new KMS.DisableKeyRequest({ keyId: CMK }));
    assert.ok(d.requestId);
    assert.equal(await stateOf(CMK), 'Disabled');
    await kms.disableKey(new KMS.DisableKeyRequest({ keyId: CMK }));
    assert.equal(await stateOf(CMK), 'Disabled');
    const e = await kms.enableKey(new KMS.EnableKeyRequest({ keyId: CMK }));
    assert.ok(e.requestId);
    assert.equal(await stateOf(CMK), 'Enabled');
    await kms.enableKey(new KMS.EnableKeyRequest({ keyId: CMK }));
    assert.equal(await stateOf(CMK), 'Enabled');
  });

  it('errors: Forbidden.KeyNotFound, Rejected.StateModifiedFailed, a service key', known('kms20160120.DisableKey.errors'), async () => {
    await S.expectRpcClientError(kms.disableKey(new KMS.DisableKeyRequest({ keyId: 'key-doesnotexist00001' })), 'Forbidden.KeyNotFound');
    await S.expectRpcClientError(kms.enableKey(new KMS.EnableKeyRequest({ keyId: 'key-doesnotexist00001' })), 'Forbidden.KeyNotFound');
    await S.expectRpcClientError(kms.enableKey(new KMS.EnableKeyRequest({ keyId: PENDING })), 'Rejected.StateModifiedFailed');
    await S.expectRpcClientError(kms.disableKey(new KMS.DisableKeyRequest({ keyId: PENDING })), 'Rejected.StateModifiedFailed');
    assert.equal(await stateOf(PENDING), 'PendingDeletion');
    await S.expectRpcClientError(kms.disableKey(new KMS.DisableKeyRequest({ keyId: 'key-hzz6ecsservicekey00001' })), 'Forbidden.NoPermission');
    assert.equal(await stateOf('key-hzz6ecsservicekey00001'), 'Enabled');
  });
});

for (const mode of S.MODES) {
  describe(`KMS DisableKey / EnableKey via openapi-core callApi (${mode})`, () => {
    let api;
    before(() => {
      api = S.clients.openapi(emu, mode);
    });

    it('by alias and by ARN; HTTP statuses of the errors', known(`${mode}:kms.DisableKey`), async () => {
      const b = await S.callRpc(api, 'Kms', 'DisableKey', { KeyId: 'alias/compat-share-cmk' });
      assert.ok(b.RequestId);
      assert.equal((await S.callRpc(api, 'Kms', 'DescribeKey', { KeyId: CMK })).KeyMetadata.KeyState, 'Disabled');
      await S.callRpc(api, 'Kms', 'EnableKey', { KeyId: `acs:kms:${REGION}:${UID}:key/${CMK}` });
      assert.equal((await S.callRpc(api, 'Kms', 'DescribeKey', { KeyId: CMK })).KeyMetadata.KeyState, 'Enabled');
      await S.expectSdkError(S.callRpc(api, 'Kms', 'EnableKey', { KeyId: 'key-doesnotexist00001' }), { code: 'Forbidden.KeyNotFound', statusCode: 404 });
      await S.expectSdkError(S.callRpc(api, 'Kms', 'DisableKey', { KeyId: PENDING }), { code: 'Rejected.StateModifiedFailed', statusCode: 409 });
      await S.expectSdkError(S.callRpc(api, 'Kms', 'DisableKey', { KeyId: 'alias/acs/ecs' }), { code: 'Forbidden.NoPermission', statusCode: 403 });
      await S.expectSdkError(S.callRpc(api, 'Kms', 'DisableKey', {}), { code: 'MissingParameter', statusCode: 400 });
    });
  });
}

describe('ECS needs AliyunECSDiskEncryptDefaultRole to use a CMK (V3)', () => {
  let ram;
  let ecs;
  before(() => {
    ram = S.clients.ram(emu, 'V3');
    ecs = S.clients.ecs(emu, 'V3');
  });
  const copy = (extra = {}) =>
    ecs.copySnapshot(
      new ECS.CopySnapshotRequest({
        regionId: REGION,
        destinationRegionId: DEST,
        snapshotId: 's-bp1aaaa',
        destinationSnapshotName: 'compat-copy',
        destinationSnapshotDescription: 'copied by the compat suite',
        encrypted: true,
        KMSKeyId: DEST_CMK,
        ...extra,
      }),
    );
  const destSnapshots = async () =>
    (await ecs.describeSnapshots(new ECS.DescribeSnapshotsRequest({ regionId: DEST, maxResults: 100 }))).body.snapshots.snapshot.filter((s) =>
      s.snapshotId.startsWith('s-copy'),
    );

  it('CopySnapshot with a CMK: KMSUnauthorized without the role, a copy with it', known('V3:ecs.CopySnapshot'), async () => {
    // The owner's own ECS cannot use its CMK-encrypted snapshot either.
    const before = await emu.access(UID, 's-bp1aaaa');
    assert.equal(before.usable, false);
    assert.ok(before.reasons.some((r) => r.includes(DISK_ROLE)), JSON.stringify(before.reasons));

    await S.expectSdkError(copy(), { code: 'InvalidParameter.KMSKeyId.KMSUnauthorized', statusCode: 403 });
    assert.deepEqual(await destSnapshots(), [], 'nothing copied');

    // What the console's authorisation creates (and settings.manageDiskEncryptRole will).
    await ram.createRole(new RAM.CreateRoleRequest({ roleName: DISK_ROLE, assumeRolePolicyDocument: JSON.stringify(ecsTrust) }));
    await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'System', policyName: 'AliyunECSDiskEncryptRolePolicy', roleName: DISK_ROLE }));
    const r = await copy({ tag: [new ECS.CopySnapshotRequestTag({ key: 'share', value: 'golden' })] });
    assert.equal(r.statusCode, 200);
    S.assertWireTypes(ecs, ECS.CopySnapshotResponseBody);
    assert.match(r.body.snapshotId, /^s-/);
    const copies = await destSnapshots();
    assert.equal(copies.length, 1);
    assert.equal(copies[0].snapshotId, r.body.snapshotId);
    assert.equal(copies[0].encrypted, true);
    assert.equal(copies[0].KMSKeyId, DEST_CMK);
    assert.equal(copies[0].snapshotName, 'compat-copy');
    assert.deepEqual(copies[0].tags.tag.map((t) => [t.tagKey, t.tagValue]), [['share', 'golden']]);
    assert.equal((await emu.access(UID, 's-bp1aaaa')).usable, true);
  });

  it('CopySnapshot errors through the SDK', known('V3:ecs.CopySnapshot.errors'), async () => {
    await S.expectSdkError(copy({ destinationRegionId: REGION }), { code: 'InvalidOperation.NotSupportCopyInSameRegion', statusCode: 403 });
    await S.expectSdkError(copy({ snapshotId: 's-bp1nope' }), { code: 'InvalidSnapshotId.NotFound', statusCode: 403 });
    await S.expectSdkError(copy({ encrypted: false }), { code: 'InvalidEncrypted.NotMatchKmsKeyId', statusCode: 403 });
    await S.expectSdkError(copy({ KMSKeyId: CMK }), { code: 'InvalidParameter.KMSKeyId.NotFound', statusCode: 403 });
    await S.expectSdkError(copy({ KMSKeyId: undefined, encrypted: false }), { code: 'InvalidEncrypted.NotSupportDecrypt', statusCode: 403 });
  });
});

describe('breaking the key link through the SDK, as a user would (V3)', () => {
  let ram;
  let api;
  before(() => {
    ram = S.clients.ram(emu, 'V3');
    api = S.clients.openapi(emu, 'V3');
  });

  it('a usable snapshot share stops being usable while its CMK is disabled', known('e2e.disable-key'), async () => {
    // Independent of the tests above: ECS authorised to use the CMKs.
    const roles = (await ram.listRoles(new RAM.ListRolesRequest({}))).body.roles.role.map((r) => r.roleName);
    if (!roles.includes(DISK_ROLE)) {
      await ram.createRole(new RAM.CreateRoleRequest({ roleName: DISK_ROLE, assumeRolePolicyDocument: JSON.stringify(ecsTrust) }));
      await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'System', policyName: 'AliyunECSDiskEncryptRolePolicy', roleName: DISK_ROLE }));
    }
    const roleName = 'AliyunECSShareEncryptSnapshotDefaultRole';
    const trust = {
      Version: '1',
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: [`${RECIPIENT}@ecs.aliyuncs.com`] } }],
    };
    await ram.createRole(new RAM.CreateRoleRequest({ roleName, assumeRolePolicyDocument: JSON.stringify(trust) }));
    const policy = {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['kms:List*'], Resource: [`acs:kms:${REGION}:${UID}:key`] },
        { Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], Resource: [`acs:kms:${REGION}:${UID}:key/${CMK}`] },
      ],
    };
    await ram.createPolicy(new RAM.CreatePolicyRequest({ policyName: 'compat-disable-key', policyDocument: JSON.stringify(policy) }));
    await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName: 'compat-disable-key', roleName }));
    await S.callRpc(api, 'ResourceSharing', 'CreateResourceShare', {
      ResourceShareName: 'compat-disable-key',
      Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1aaaa' }],
      Targets: [RECIPIENT],
    });
    const usable = await S.pollUntil(async () => {
      const a = await emu.access(RECIPIENT, 's-bp1aaaa');
      return { done: a.usable, value: a };
    }, { what: 'the share usable' });
    assert.deepEqual(usable.reasons, []);

    await S.callRpc(api, 'Kms', 'DisableKey', { KeyId: CMK });
    const broken = await emu.access(RECIPIENT, 's-bp1aaaa');
    assert.equal(broken.usable, false);
    assert.deepEqual(broken.reasons, [`KMS key ${CMK} is Disabled`]);

    await S.callRpc(api, 'Kms', 'EnableKey', { KeyId: CMK });
    assert.equal((await emu.access(RECIPIENT, 's-bp1aaaa')).usable, true);
  });
});
