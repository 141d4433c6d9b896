'use strict';
// What the share driver (issue 12) meets, through the official SDK against sharekeeper-emulator, V3 and
// V1: the ECS image-share refusals of the current metadata (service key, disabled CMK, deprecated image,
// OperationDeined.FullImage behind its seed switch), DeleteImage's ImageUseShared, image tags
// (TagResources / ListTagResources / UntagResources via @alicloud/ecs20140526); Resource Sharing (via
// openapi-core callApi) tags on shares, UpdateResourceShare, DeleteResourceShare, AssociateConflict /
// DisassociateConflict, duplicate entities, association failure details, seeded shares, invitations
// that are withdrawn, rejected, answered twice or expired; and /_emulator/access on each path.
// Run by run.js over HTTP and, with --tls, over HTTPS.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');

const baseSeed = require('./seed.json');
const { emulatorForFile } = require('./lib/emulator');
const S = require('./lib/sdk');
const { known } = require('./lib/deviations');

const { ECS, UID, REGION } = S;
const EXTERNAL_UID = '9999999999999999';
const IN_FOLDER = '1111111111111111'; // fd-compatprod
const CMK = 'key-hzz63a1b2c3d4e5f6compat';

// seed.json plus what this file needs, loaded over POST /_emulator/seed (and put back afterwards: under
// --tls the emulator is shared with the other files, which reset it to seed.json themselves).
function sharesSeed(emulation) {
  const s = structuredClone(baseSeed);
  const owner = s.accounts.find((a) => a.uid === UID);
  const region = owner.regions[REGION];
  region.snapshots.push(
    { snapshotId: 's-bp1shoff01', encrypted: true, kmsKeyId: 'key-hzz6disabledcmk000001' },
    { snapshotId: 's-bp1shdata01', encrypted: true, kmsKeyId: CMK },
  );
  region.images.push(
    { imageId: 'm-bp1shoff0001', snapshotIds: ['s-bp1shoff01'] },
    { imageId: 'm-bp1shold0001', snapshotIds: ['s-bp1bbbb'], status: 'Deprecated' },
    { imageId: 'm-bp1shfull001', snapshotIds: ['s-bp1aaaa', 's-bp1shdata01'] },
    { imageId: 'm-bp1shdel0001', snapshotIds: ['s-bp1bbbb'] },
    { imageId: 'm-bp1shdel0002', snapshotIds: ['s-bp1bbbb'] },
    { imageId: 'm-bp1shtag0001', snapshotIds: ['s-bp1bbbb'], tags: { env: 'prod' } },
  );
  s.resourceShares = [
    {
      resourceShareId: 'rs-compatlegacy',
      owner: UID,
      region: REGION,
      name: 'compat-legacy',
      allowExternalTargets: true,
      tags: { team: 'legacy' },
      resources: [
        { type: 'Snapshot', id: 's-bp1dddd' },
        { type: 'Image', id: 'm-bp1testimage0001' },
      ],
      targets: [IN_FOLDER, 'fd-compatprod', { id: EXTERNAL_UID, invitation: 'Pending', invitedAt: '2020-01-01T00:00:00Z' }],
    },
  ];
  if (emulation) s.emulation = emulation;
  return s;
}

let emu;
before(async () => {
  emu = await emulatorForFile(baseSeed);
  await emu.admin('POST', 'seed', sharesSeed());
});
after(async () => {
  if (!emu) return;
  await emu.admin('POST', 'seed', baseSeed);
  await emu.stop();
});

for (const mode of S.MODES) {
  const m = mode.toLowerCase();

  describe(`ECS image sharing for the share driver (${mode})`, () => {
    let ecs;
    before(() => {
      ecs = S.clients.ecs(emu, mode);
    });
    const modify = (imageId, o) => ecs.modifyImageSharePermission(new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId, ...o }));

    it('a service-key image is InvalidOperation.ServiceKeyEncryptedImageUnsupported (403)', known(`${mode}:ecs.ModifyImageSharePermission.servicekeyCode`), async () => {
      await S.expectSdkError(modify('m-bp1svcimage00001', { addAccount: [IN_FOLDER] }), {
        code: 'InvalidOperation.ServiceKeyEncryptedImageUnsupported',
        statusCode: 403,
      });
    });

    it('an image under a disabled CMK is InvalidParameter.KMSKeyId.CMKNotEnabled (403)', known(`${mode}:ecs.ModifyImageSharePermission.cmkDisabled`), async () => {
      await S.expectSdkError(modify('m-bp1shoff0001', { addAccount: [IN_FOLDER] }), {
        code: 'InvalidParameter.KMSKeyId.CMKNotEnabled',
        statusCode: 403,
      });
    });

    it('a deprecated image is OperationDenied.InvalidImageStatus (403)', known(`${mode}:ecs.ModifyImageSharePermission.deprecated`), async () => {
      await S.expectSdkError(modify('m-bp1shold0001', { addAccount: [IN_FOLDER] }), {
        code: 'OperationDenied.InvalidImageStatus',
        statusCode: 403,
      });
    });

    it('OperationDeined.FullImage only with emulation.refuseEncryptedFullImages', known(`${mode}:ecs.ModifyImageSharePermission.fullImage`), async () => {
      // Without the switch an encrypted two-snapshot image is shared like any other (here it fails on
      // the missing role, after the FullImage check would have come).
      await S.expectSdkError(modify('m-bp1shfull001', { addAccount: [IN_FOLDER] }), { code: 'AssumeRoleError', statusCode: 403 });
      await emu.admin('POST', 'seed', sharesSeed({ refuseEncryptedFullImages: true }));
      try {
        await S.expectSdkError(modify('m-bp1shfull001', { addAccount: [IN_FOLDER] }), { code: 'OperationDeined.FullImage', statusCode: 403 });
        const one = await modify('m-bp1testimage0001', { addAccount: [IN_FOLDER] });
        assert.equal(one.statusCode, 200, 'a one-snapshot image is unaffected');
      } finally {
        await emu.admin('POST', 'seed', sharesSeed());
      }
    });

    it('DeleteImage refuses a shared image with ImageUseShared, even with Force', known(`${mode}:ecs.DeleteImage.shared`), async () => {
      const imageId = mode === 'V3' ? 'm-bp1shdel0001' : 'm-bp1shdel0002';
      await modify(imageId, { addAccount: [IN_FOLDER] });
      const del = (o = {}) => ecs.deleteImage(new ECS.DeleteImageRequest({ regionId: REGION, imageId, ...o }));
      await S.expectSdkError(del({ force: true }), { code: 'ImageUseShared', statusCode: 403 });
      await modify(imageId, { removeAccount: [IN_FOLDER] });
      await S.expectSdkError(del({ dryRun: true }), { code: 'DryRunOperation', statusCode: 400 });
      const r = await del();
      assert.equal(r.statusCode, 200);
      S.assertWireTypes(ecs, ECS.DeleteImageResponseBody);
      const after = await ecs.describeImages(new ECS.DescribeImagesRequest({ regionId: REGION, imageId, imageOwnerAlias: 'self' }));
      assert.deepEqual(after.body.images.image, []);
      const again = await del();
      assert.equal(again.statusCode, 200, 'a missing image is ignored');
    });

    it('TagResources, ListTagResources and UntagResources on an image', known(`${mode}:ecs.TagResources.image`), async () => {
      const key = `sharekeeper:managed-by`;
      const value = `compat-${m}`;
      const r = await ecs.tagResources(
        new ECS.TagResourcesRequest({ regionId: REGION, resourceType: 'image', resourceId: ['m-bp1shtag0001'], tag: [{ key, value }] }),
      );
      assert.equal(r.statusCode, 200);
      const list = await ecs.listTagResources(new ECS.ListTagResourcesRequest({ regionId: REGION, resourceType: 'image', resourceId: ['m-bp1shtag0001'] }));
      S.assertWireTypes(ecs, ECS.ListTagResourcesResponseBody);
      const pairs = list.body.tagResources.tagResource.map((t) => [t.resourceId, t.resourceType, t.tagKey, t.tagValue]).sort();
      assert.deepEqual(pairs, [
        ['m-bp1shtag0001', 'image', 'env', 'prod'],
        ['m-bp1shtag0001', 'image', key, value],
      ]);
      const byTag = await ecs.describeImages(new ECS.DescribeImagesRequest({ regionId: REGION, imageOwnerAlias: 'self', tag: [{ key, value }] }));
      assert.deepEqual(byTag.body.images.image.map((i) => i.imageId), ['m-bp1shtag0001']);
      await ecs.untagResources(new ECS.UntagResourcesRequest({ regionId: REGION, resourceType: 'image', resourceId: ['m-bp1shtag0001'], tagKey: [key] }));
      const left = await ecs.listTagResources(new ECS.ListTagResourcesRequest({ regionId: REGION, resourceType: 'image', resourceId: ['m-bp1shtag0001'] }));
      assert.deepEqual(left.body.tagResources.tagResource.map((t) => t.tagKey), ['env']);
      await S.expectSdkError(
        ecs.tagResources(new ECS.TagResourcesRequest({ regionId: REGION, resourceType: 'image', resourceId: ['m-bp1missing000001'], tag: [{ key, value }] })),
        { code: 'InvalidResourceId.NotFound', statusCode: 404 },
      );
      await S.expectSdkError(
        ecs.tagResources(new ECS.TagResourcesRequest({ regionId: REGION, resourceType: 'image', resourceId: ['m-bp1shtag0001'], tag: [{ key: 'acs:reserved', value }] })),
        { code: 'InvalidTagKey.Malformed', statusCode: 400 },
      );
    });
  });

  describe(`Resource Sharing for the share driver via openapi-core callApi (${mode})`, () => {
    let api;
    let theirs;
    before(() => {
      api = S.clients.openapi(emu, mode);
      theirs = S.clients.openapi(emu, mode, S.EXTERNAL);
    });
    const rs = (action, query, client = api) => S.callRpc(client, 'ResourceSharing', action, query);
    // Runs fn with the emulated clock `seconds` ahead (well inside the ±15 min signature window).
    const at = async (seconds, fn) => {
      await emu.admin('POST', 'clock', { offsetSeconds: seconds });
      try {
        return await fn();
      } finally {
        await emu.admin('DELETE', 'clock');
      }
    };
    const association = async (id, type, entity) =>
      (await rs('ListResourceShareAssociations', { AssociationType: type, ResourceShareIds: [id] })).ResourceShareAssociations.find((a) => a.EntityId === entity);
    const settled = (id, type, entity, status) =>
      S.pollUntil(
        async () => {
          const a = await association(id, type, entity);
          return { done: a && a.AssociationStatus === status, value: a };
        },
        { what: `${entity} ${status}` },
      );

    it('CreateResourceShare takes Tag.N; ListResourceShares answers Tags[] and filters by them', known(`${mode}:rs.tags`), async () => {
      const name = `compat-${m}-tagged`;
      const b = await rs('CreateResourceShare', {
        ResourceShareName: name,
        Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1bbbb' }],
        Tag: [
          { Key: 'sharekeeper:managed-by', Value: `compat-${m}` },
          { Key: 'team', Value: '' },
        ],
      });
      const id = b.ResourceShare.ResourceShareId;
      const l = (await rs('ListResourceShares', { ResourceOwner: 'Self', Tag: [{ Key: 'sharekeeper:managed-by', Value: `compat-${m}` }] })).ResourceShares;
      assert.deepEqual(l.map((s) => s.ResourceShareId), [id]);
      assert.deepEqual(l[0].Tags, [
        { Key: 'sharekeeper:managed-by', Value: `compat-${m}` },
        { Key: 'team', Value: '' },
      ]);
      assert.equal(l[0].ResourceShareOwner, UID);
      await S.expectSdkError(rs('CreateResourceShare', { ResourceShareName: `${name}-bad`, Tag: [{ Key: 'aliyun-reserved', Value: 'x' }] }), {
        code: 'InvalidParameter.Tag',
        statusCode: 400,
      });
      // Names are not unique: a second share of the same name is a second share.
      const dup = await rs('CreateResourceShare', { ResourceShareName: name });
      assert.notEqual(dup.ResourceShare.ResourceShareId, id);
    });

    it('AssociateConflict while Disassociating, DisassociateConflict while Associating; duplicates refused', known(`${mode}:rs.conflicts`), async () => {
      // Writes made with the emulated clock a minute ahead leave their associations Associating (or
      // Disassociating) for that minute once the clock is back: a stable window, whatever the load.
      const b = await at(60, () => rs('CreateResourceShare', { ResourceShareName: `compat-${m}-conflicts`, Targets: [IN_FOLDER] }));
      const id = b.ResourceShare.ResourceShareId;
      assert.equal((await association(id, 'Target', IN_FOLDER)).AssociationStatus, 'Associating');
      await S.expectSdkError(rs('DisassociateResourceShare', { ResourceShareId: id, Targets: [IN_FOLDER] }), { code: 'DisassociateConflict', statusCode: 409 });
      const d = await at(61, () => rs('DisassociateResourceShare', { ResourceShareId: id, Targets: [IN_FOLDER] }));
      assert.equal(d.ResourceShareAssociations[0].AssociationStatus, 'Disassociating');
      await S.expectSdkError(rs('AssociateResourceShare', { ResourceShareId: id, Targets: [IN_FOLDER] }), { code: 'AssociateConflict', statusCode: 409 });
      await at(62, async () => {
        assert.equal((await association(id, 'Target', IN_FOLDER)).AssociationStatus, 'Disassociated');
        await S.expectSdkError(rs('DisassociateResourceShare', { ResourceShareId: id, Targets: [IN_FOLDER] }), { code: 'DisassociateInvalid', statusCode: 400 });
      });
      await S.expectSdkError(rs('AssociateResourceShare', { ResourceShareId: id, Targets: ['2222222222222222', '2222222222222222'] }), {
        code: 'InvalidParameter.Targets.Duplicate',
        statusCode: 400,
      });
      await S.expectSdkError(rs('ListResourceShareAssociations', { AssociationType: 'Target', ResourceId: 's-bp1bbbb' }), {
        code: 'ConflictedAssociationType',
        statusCode: 400,
      });
    });

    it('UpdateResourceShare renames and opens to external targets; DeleteResourceShare goes Deleting, then Deleted', known(`${mode}:rs.UpdateDelete`), async () => {
      const b = await rs('CreateResourceShare', {
        ResourceShareName: `compat-${m}-lifecycle`,
        Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1eeee' }],
        Targets: ['fd-compatprod'],
      });
      const id = b.ResourceShare.ResourceShareId;
      await S.expectSdkError(rs('AssociateResourceShare', { ResourceShareId: id, Targets: [EXTERNAL_UID] }), { code: 'InvalidTarget', statusCode: 400 });
      await S.expectSdkError(rs('UpdateResourceShare', { ResourceShareId: id }), { code: 'MissingParameter.ResourceShareName', statusCode: 400 });
      const u = await rs('UpdateResourceShare', { ResourceShareId: id, ResourceShareName: `compat-${m}-renamed`, AllowExternalTargets: true });
      assert.equal(u.ResourceShare.ResourceShareName, `compat-${m}-renamed`);
      assert.equal(u.ResourceShare.AllowExternalTargets, true);
      await rs('AssociateResourceShare', { ResourceShareId: id, Targets: [EXTERNAL_UID] });
      // Deleted a minute ahead: Deleting for that minute once the clock is back.
      const del = await at(60, () => rs('DeleteResourceShare', { ResourceShareId: id }));
      assert.ok(del.RequestId);
      const status = async () => (await rs('ListResourceShares', { ResourceOwner: 'Self', ResourceShareIds: [id] })).ResourceShares[0].ResourceShareStatus;
      assert.equal(await status(), 'Deleting');
      const inv = (await rs('ListResourceShareInvitations', { ResourceShareIds: [id] }, theirs)).ResourceShareInvitations;
      assert.deepEqual(inv.map((i) => i.Status), ['Cancelled'], 'the pending invitation is withdrawn');
      await S.expectSdkError(rs('AssociateResourceShare', { ResourceShareId: id, Targets: ['2222222222222222'] }), {
        code: 'ResourceShareStatusMismatchAction',
        statusCode: 409,
      });
      await at(61, async () => {
        assert.equal(await status(), 'Deleted');
        assert.equal((await association(id, 'Target', 'fd-compatprod')).AssociationStatus, 'Disassociated');
      });
      const again = await rs('DeleteResourceShare', { ResourceShareId: id });
      assert.ok(again.RequestId, 'deleting again succeeds');
      await S.expectSdkError(rs('DeleteResourceShare', { ResourceShareId: 'rs-doesnotexist01' }), { code: 'EntityNotExists.ResourceShare', statusCode: 404 });
    });

    it('invitations: withdrawn (Cancelled), rejected (target Failed), answered twice (409)', known(`${mode}:rs.invitationStates`), async () => {
      const b = await rs('CreateResourceShare', {
        ResourceShareName: `compat-${m}-invitations`,
        Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1bbbb' }],
        Targets: [EXTERNAL_UID],
        AllowExternalTargets: true,
      });
      const id = b.ResourceShare.ResourceShareId;
      const mine = async () => (await rs('ListResourceShareInvitations', { ResourceShareIds: [id] }, theirs)).ResourceShareInvitations;
      // A pending invitation may be withdrawn (no DisassociateConflict).
      await rs('DisassociateResourceShare', { ResourceShareId: id, Targets: [EXTERNAL_UID] });
      const [cancelled] = await mine();
      assert.equal(cancelled.Status, 'Cancelled');
      await S.expectSdkError(rs('AcceptResourceShareInvitation', { ResourceShareInvitationId: cancelled.ResourceShareInvitationId }, theirs), {
        code: 'EntityNotExists.ResourceShareInvitation',
        statusCode: 409,
      });
      await settled(id, 'Target', EXTERNAL_UID, 'Disassociated');
      // Associated again: a new invitation, rejected -> the target is Failed.
      await rs('AssociateResourceShare', { ResourceShareId: id, Targets: [EXTERNAL_UID] });
      const second = (await mine()).find((i) => i.Status === 'Pending');
      assert.ok(second, 'a new pending invitation');
      await rs('RejectResourceShareInvitation', { ResourceShareInvitationId: second.ResourceShareInvitationId }, theirs);
      const failed = await association(id, 'Target', EXTERNAL_UID);
      assert.equal(failed.AssociationStatus, 'Failed');
      assert.match(failed.AssociationStatusMessage, /rejected/);
      await S.expectSdkError(rs('AcceptResourceShareInvitation', { ResourceShareInvitationId: second.ResourceShareInvitationId }, theirs), {
        code: 'InvitationStatus.AlreadyRejected',
        statusCode: 409,
      });
      // A third one accepted; accepting it again is AlreadyAccepted.
      await rs('AssociateResourceShare', { ResourceShareId: id, Targets: [EXTERNAL_UID] });
      const third = (await mine()).find((i) => i.Status === 'Pending');
      await rs('AcceptResourceShareInvitation', { ResourceShareInvitationId: third.ResourceShareInvitationId }, theirs);
      await S.expectSdkError(rs('AcceptResourceShareInvitation', { ResourceShareInvitationId: third.ResourceShareInvitationId }, theirs), {
        code: 'InvitationStatus.AlreadyAccepted',
        statusCode: 409,
      });
      await settled(id, 'Target', EXTERNAL_UID, 'Associated');
      assert.equal((await emu.access(EXTERNAL_UID, 's-bp1bbbb')).usable, true, 'an unencrypted snapshot needs nothing more');
    });

    it('a seeded share: an expired invitation, and a failed resource with a detail per target', known(`${mode}:rs.seeded`), async () => {
      const [share] = (await rs('ListResourceShares', { ResourceOwner: 'Self', Tag: [{ Key: 'team', Value: 'legacy' }] })).ResourceShares;
      assert.equal(share.ResourceShareId, 'rs-compatlegacy');
      const resource = await association('rs-compatlegacy', 'Resource', 's-bp1dddd');
      assert.equal(resource.AssociationStatus, 'Failed', 'a service-key snapshot');
      assert.deepEqual(resource.AssociationFailedDetails.map((d) => [d.EntityId, d.FailureReason, d.OperationType]).sort(), [
        [IN_FOLDER, 'UnsupportedOperation', 'Associate'],
        [EXTERNAL_UID, 'UnsupportedOperation', 'Associate'],
        ['fd-compatprod', 'UnsupportedOperation', 'Associate'],
      ].sort());
      const external = await association('rs-compatlegacy', 'Target', EXTERNAL_UID);
      assert.equal(external.External, true);
      assert.equal(external.AssociationStatus, 'Failed');
      assert.match(external.AssociationStatusMessage, /expired/);
      const [inv] = (await rs('ListResourceShareInvitations', { ResourceShareIds: ['rs-compatlegacy'] }, theirs)).ResourceShareInvitations;
      assert.equal(inv.Status, 'Expired', 'sent in 2020, valid 7 days');
      await S.expectSdkError(rs('AcceptResourceShareInvitation', { ResourceShareInvitationId: inv.ResourceShareInvitationId }, theirs), {
        code: 'InvitationStatus.Expired',
        statusCode: 409,
      });
      const access = await emu.access(EXTERNAL_UID, 'm-bp1testimage0001');
      assert.equal(access.usable, false);
      assert.ok(access.reasons.some((r) => /expired/.test(r)), JSON.stringify(access.reasons));
      assert.equal((await emu.access(IN_FOLDER, 'm-bp1testimage0001')).usable, true, 'the in-folder account can use the image');
    });
  });
}

// /_emulator/access for an encrypted image shared through Resource Sharing to an RD folder: usable only
// once the image share role trusts the folder (RD path condition) and its policy allows the key.
describe('end to end: encrypted image shared to an RD folder through Resource Sharing (V1)', () => {
  it('usable with trust and KMS permission; an account outside the folder is not', known('e2e.image-rd-folder'), async () => {
    const ram = S.clients.ram(emu, 'V1');
    const api = S.clients.openapi(emu, 'V1');
    const roleName = 'AliyunECSShareEncryptImageDefaultRole';
    const b = await S.callRpc(api, 'ResourceSharing', 'CreateResourceShare', {
      ResourceShareName: 'compat-e2e-image',
      Resources: [{ ResourceType: 'Image', ResourceId: 'm-bp1encimage00001' }],
      Targets: ['fd-compatprod'],
    });
    const id = b.ResourceShare.ResourceShareId;
    await S.pollUntil(async () => {
      const l = (await S.callRpc(api, 'ResourceSharing', 'ListResourceShareAssociations', { AssociationType: 'Target', ResourceShareIds: [id] }))
        .ResourceShareAssociations;
      return { done: l[0].AssociationStatus === 'Associated', value: l };
    }, { what: 'folder Associated' });
    const before = await emu.access(IN_FOLDER, 'm-bp1encimage00001');
    assert.equal(before.usable, false);
    assert.ok(before.reasons.some((r) => r.includes(roleName)), JSON.stringify(before.reasons));
    const trust = {
      Version: '1',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: ['*@ecs.aliyuncs.com'] },
          Condition: { StringLike: { 'sts:ServiceOwnerRDPath': 'rd-compat001/fd-compatroot/fd-compatprod*' } },
        },
      ],
    };
    const policy = {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['kms:List*'], Resource: [`acs:kms:${REGION}:${UID}:key`] },
        {
          Effect: 'Allow',
          Action: ['kms:DescribeKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: [`acs:kms:${REGION}:${UID}:key/${CMK}`],
        },
      ],
    };
    const { RAM } = S;
    await ram.createRole(new RAM.CreateRoleRequest({ roleName, assumeRolePolicyDocument: JSON.stringify(trust) }));
    await ram.createPolicy(new RAM.CreatePolicyRequest({ policyName: 'compat-e2e-image-kms', policyDocument: JSON.stringify(policy) }));
    await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName: 'compat-e2e-image-kms', roleName }));
    const usable = await emu.access(IN_FOLDER, 'm-bp1encimage00001');
    assert.equal(usable.usable, true, JSON.stringify(usable));
    const outside = await emu.access('3333333333333333', 'm-bp1encimage00001');
    assert.equal(outside.usable, false, 'in the RD, not in the folder');
  });
});
