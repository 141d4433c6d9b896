'use strict';
// The official Alibaba Cloud Node.js SDK against sharekeeper-emulator, through every action the emulator
// implements, once with V3 signing (openapi-core's default, ACS3-HMAC-SHA256) and once with V1
// (signatureAlgorithm 'v2', HMAC-SHA1). Run by run.js over HTTP and, with --tls, over HTTPS.
// Expected values come from docs/alibaba-api.md; response types from the SDK's own models.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');

const seed = require('./seed.json');
const { emulatorForFile } = require('./lib/emulator');
const S = require('./lib/sdk');
const { known } = require('./lib/deviations');

const { RAM, ECS, STS, KMS, UID, REGION } = S;

let emu;
before(async () => {
  emu = await emulatorForFile(seed);
});
after(async () => {
  if (emu) await emu.stop();
});

const trustAccountRoot = (uid = UID) => ({
  Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [`acs:ram::${uid}:root`] } }],
  Version: '1',
});
const trustEcsOf = (uids) => ({
  Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: uids.map((u) => `${u}@ecs.aliyuncs.com`) } }],
  Version: '1',
});
const kmsPolicy = (n) => ({
  Version: '1',
  Statement: [
    { Effect: 'Allow', Action: ['kms:List*'], Resource: [`acs:kms:${REGION}:${UID}:key`] },
    {
      Effect: 'Allow',
      Action: ['kms:DescribeKey', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: [`acs:kms:${REGION}:${UID}:key/key-hzz63a1b2c3d4e5f6compat-${n}`],
    },
  ],
});

for (const mode of S.MODES) {
  const m = mode.toLowerCase();

  describe(`RAM roles (${mode})`, () => {
    const roleName = `compat-${m}-role`;
    const trust = trustAccountRoot();
    let ram;
    let roleId;
    before(() => {
      ram = S.clients.ram(emu, mode);
    });

    it('CreateRole returns the role and its trust document', known(`${mode}:ram.CreateRole`), async () => {
      const r = await ram.createRole(
        new RAM.CreateRoleRequest({
          roleName,
          assumeRolePolicyDocument: JSON.stringify(trust),
          description: 'compat suite role',
          maxSessionDuration: 3600,
        }),
      );
      assert.equal(r.statusCode, 200);
      assert.ok(r.body.requestId);
      const role = r.body.role;
      assert.equal(role.roleName, roleName);
      assert.match(role.roleId, /^\d+$/);
      roleId = role.roleId;
      assert.equal(role.arn.toLowerCase(), `acs:ram::${UID}:role/${roleName}`.toLowerCase());
      assert.equal(role.description, 'compat suite role');
      assert.equal(role.maxSessionDuration, 3600);
      assert.match(role.createDate, S.ISO_SECONDS);
      S.assertSamePolicy(role.assumeRolePolicyDocument, trust, 'returned trust document');
      S.assertWireTypes(ram, RAM.CreateRoleResponseBody);
    });

    it('CreateRole of an existing name fails with EntityAlreadyExists.Role (409)', known(`${mode}:ram.CreateRole.exists`), async () => {
      const req = new RAM.CreateRoleRequest({ roleName, assumeRolePolicyDocument: JSON.stringify(trust) });
      await S.expectSdkError(ram.createRole(req), { code: 'EntityAlreadyExists.Role', statusCode: 409 });
    });

    it('CreateRole with an invalid name fails with InvalidParameter.RoleName.InvalidChars', known(`${mode}:ram.CreateRole.badname`), async () => {
      const req = new RAM.CreateRoleRequest({ roleName: 'bad_name!', assumeRolePolicyDocument: JSON.stringify(trust) });
      await S.expectSdkError(ram.createRole(req), { code: 'InvalidParameter.RoleName.InvalidChars', statusCode: 400 });
    });

    it('CreateRole with a malformed trust document fails with MalformedPolicyDocument', known(`${mode}:ram.CreateRole.malformed`), async () => {
      const req = new RAM.CreateRoleRequest({ roleName: `${roleName}-x`, assumeRolePolicyDocument: '{"Statement": [' });
      await S.expectSdkError(ram.createRole(req), { code: 'MalformedPolicyDocument', statusCode: 400 });
    });

    it('role names: 64 characters accepted, 65 InvalidParameter.RoleName.Length', known(`${mode}:ram.CreateRole.length`), async () => {
      const long = `${m}-`.padEnd(64, 'r');
      const r = await ram.createRole(
        new RAM.CreateRoleRequest({ roleName: long, assumeRolePolicyDocument: JSON.stringify(trust), tag: [{ key: 'created-by', value: 'CreateRole' }] }),
      );
      assert.equal(r.body.role.roleName, long);
      // CreateRole's Tag is a "json" style parameter: one JSON string.
      const l = await ram.listTagResources(new RAM.ListTagResourcesRequest({ resourceType: 'role', resourceNames: [long] }));
      assert.deepEqual(l.body.tagResources.map((x) => [x.tagKey, x.tagValue]), [['created-by', 'CreateRole']]);
      await ram.deleteRole(new RAM.DeleteRoleRequest({ roleName: long }));
      await S.expectSdkError(ram.createRole(new RAM.CreateRoleRequest({ roleName: `${long}x`, assumeRolePolicyDocument: JSON.stringify(trust) })), {
        code: 'InvalidParameter.RoleName.Length',
        statusCode: 400,
      });
    });

    it('GetRole returns the role; the name is matched case-insensitively', known(`${mode}:ram.GetRole`), async () => {
      const r = await ram.getRole(new RAM.GetRoleRequest({ roleName: roleName.toUpperCase() }));
      const role = r.body.role;
      assert.equal(role.roleName, roleName, 'canonical case is returned');
      assert.equal(role.roleId, roleId);
      assert.equal(role.description, 'compat suite role');
      S.assertSamePolicy(role.assumeRolePolicyDocument, trust);
      S.assertWireTypes(ram, RAM.GetRoleResponseBody);
    });

    it('GetRole of a missing role maps to the SDK error EntityNotExist.Role (404)', known(`${mode}:ram.GetRole.missing`), async () => {
      const err = await S.expectSdkError(ram.getRole(new RAM.GetRoleRequest({ roleName: 'missing-role' })), {
        code: 'EntityNotExist.Role',
        statusCode: 404,
      });
      assert.match(err.message, /^EntityNotExist\.Role: code: 404, /);
    });

    it('UpdateRole replaces trust document, description and MaxSessionDuration', known(`${mode}:ram.UpdateRole`), async () => {
      const newTrust = trustEcsOf(['1111111111111111', '2222222222222222']);
      newTrust.Statement.push(trust.Statement[0]);
      const r = await ram.updateRole(
        new RAM.UpdateRoleRequest({
          roleName,
          newAssumeRolePolicyDocument: JSON.stringify(newTrust),
          newDescription: 'updated by compat',
          newMaxSessionDuration: 7200,
        }),
      );
      const role = r.body.role;
      assert.equal(role.roleName, roleName);
      assert.equal(role.description, 'updated by compat');
      assert.equal(role.maxSessionDuration, 7200);
      assert.match(role.updateDate, S.ISO_SECONDS);
      S.assertSamePolicy(role.assumeRolePolicyDocument, newTrust);
      S.assertWireTypes(ram, RAM.UpdateRoleResponseBody);
      const g = await ram.getRole(new RAM.GetRoleRequest({ roleName }));
      assert.equal(g.body.role.maxSessionDuration, 7200);
      S.assertSamePolicy(g.body.role.assumeRolePolicyDocument, newTrust);
    });

    it('UpdateRole of a missing role fails with EntityNotExist.Role', known(`${mode}:ram.UpdateRole.missing`), async () => {
      const req = new RAM.UpdateRoleRequest({ roleName: 'missing-role', newDescription: 'x' });
      await S.expectSdkError(ram.updateRole(req), { code: 'EntityNotExist.Role', statusCode: 404 });
    });

    it('values with reserved, non-ASCII and emoji characters survive signing both ways', known(`${mode}:ram.encoding`), async () => {
      // Node's querystring leaves * ! ' ( ) unescaped on the wire while the signature encodes them:
      // the emulator has to decode and re-encode, never sign the raw wire string.
      const text = "a b*c~d+e/f=g&h!i'j(k)l:m,n;o@p$q?r#s%t 中文 é 🙂";
      const r = await ram.updateRole(new RAM.UpdateRoleRequest({ roleName, newDescription: text }));
      assert.equal(r.body.role.description, text);
      const g = await ram.getRole(new RAM.GetRoleRequest({ roleName }));
      assert.equal(g.body.role.description, text);
      await ram.updateRole(new RAM.UpdateRoleRequest({ roleName, newDescription: 'updated by compat' }));
    });

    it('GET is accepted as well as POST, and parameters may travel in a form body', known(`${mode}:ram.placement`), async () => {
      const api = S.clients.openapi(emu, mode);
      const byGet = await S.callRpc(api, 'Ram', 'GetRole', { RoleName: roleName }, { method: 'GET' });
      assert.equal(byGet.Role.RoleName, roleName);
      const byForm = await S.callRpc(api, 'Ram', 'GetRole', {}, { body: { RoleName: roleName } });
      assert.equal(byForm.Role.RoleName, roleName);
      const id = await S.callRpc(api, 'Sts', 'GetCallerIdentity', {}, { method: 'GET' });
      assert.equal(id.AccountId, UID);
    });

    it('ListRoles pages with MaxItems/Marker and carries no trust document', known(`${mode}:ram.ListRoles`), async () => {
      const names = [];
      let marker;
      let pages = 0;
      for (;;) {
        const r = await ram.listRoles(new RAM.ListRolesRequest({ maxItems: 1, marker }));
        pages += 1;
        assert.equal(typeof r.body.isTruncated, 'boolean');
        S.assertWireTypes(ram, RAM.ListRolesResponseBody);
        const roles = r.body.roles.role;
        assert.ok(roles.length <= 1, 'MaxItems honoured');
        for (const role of ram.lastRaw.Roles.Role) {
          assert.equal(role.AssumeRolePolicyDocument, undefined, 'ListRoles has no trust document');
        }
        names.push(...roles.map((x) => x.roleName));
        if (!r.body.isTruncated) {
          assert.equal(ram.lastRaw.Marker, undefined, 'Marker only when truncated');
          break;
        }
        assert.ok(r.body.marker, 'Marker when truncated');
        marker = r.body.marker;
        assert.ok(pages < 100, 'paging terminates');
      }
      assert.ok(names.includes(roleName), `${roleName} in ${names}`);
      assert.equal(new Set(names).size, names.length, 'no role listed twice');
      const all = await ram.listRoles(new RAM.ListRolesRequest({}));
      assert.equal(all.body.isTruncated, false);
      assert.deepEqual(all.body.roles.role.map((x) => x.roleName).sort(), [...names].sort());
      const one = all.body.roles.role.find((x) => x.roleName === roleName);
      assert.equal(one.roleId, roleId);
      assert.equal(one.maxSessionDuration, 7200);
    });

    it('TagResources, ListTagResources and UntagResources on a role', known(`${mode}:ram.TagResources`), async () => {
      const t = await ram.tagResources(
        new RAM.TagResourcesRequest({
          resourceType: 'role',
          resourceNames: [roleName],
          tag: [
            { key: 'managed-by', value: 'sharekeeper' },
            { key: 'env', value: 'compat' },
          ],
        }),
      );
      assert.equal(t.statusCode, 200);
      const l = await ram.listTagResources(new RAM.ListTagResourcesRequest({ resourceType: 'role', resourceNames: [roleName] }));
      S.assertWireTypes(ram, RAM.ListTagResourcesResponseBody);
      assert.ok(Array.isArray(ram.lastRaw.TagResources), 'TagResources is a bare array');
      const tags = l.body.tagResources.map((x) => [x.resourceType, x.resourceName, x.tagKey, x.tagValue]).sort();
      assert.deepEqual(tags, [
        ['role', roleName, 'env', 'compat'],
        ['role', roleName, 'managed-by', 'sharekeeper'],
      ]);
      await ram.untagResources(new RAM.UntagResourcesRequest({ resourceType: 'role', resourceNames: [roleName], tagKeys: ['env'] }));
      const l2 = await ram.listTagResources(new RAM.ListTagResourcesRequest({ resourceType: 'role', resourceNames: [roleName] }));
      assert.deepEqual(
        l2.body.tagResources.map((x) => [x.tagKey, x.tagValue]),
        [['managed-by', 'sharekeeper']],
      );
    });

    it('ListRoles with a Tag filter returns the tagged role with its tags', known(`${mode}:ram.ListRoles.tag`), async () => {
      const r = await ram.listRoles(new RAM.ListRolesRequest({ tag: [{ key: 'managed-by', value: 'sharekeeper' }] }));
      const names = r.body.roles.role.map((x) => x.roleName);
      assert.ok(names.includes(roleName));
      assert.ok(!names.includes('AliyunECSShareEncryptImageDefaultRole'));
      const role = r.body.roles.role.find((x) => x.roleName === roleName);
      assert.deepEqual(role.tags.tag.map((x) => [x.tagKey, x.tagValue]), [['managed-by', 'sharekeeper']]);
    });

    it('a 5xx maps to the SDK ServerError; afterCommit applies the change before failing', known(`${mode}:ram.server-error`), async () => {
      const name = `compat-${m}-after-commit`;
      await emu.addFault({ action: 'CreateRole', probability: 1, code: 'InternalError', status: 500, afterCommit: true });
      try {
        await S.expectSdkError(ram.createRole(new RAM.CreateRoleRequest({ roleName: name, assumeRolePolicyDocument: JSON.stringify(trust) })), {
          code: 'InternalError',
          statusCode: 500,
          name: 'ServerError',
        });
      } finally {
        await emu.clearFaults();
      }
      const g = await ram.getRole(new RAM.GetRoleRequest({ roleName: name }));
      assert.equal(g.body.role.roleName, name, 'the role was created although the call failed');
      await ram.deleteRole(new RAM.DeleteRoleRequest({ roleName: name }));
    });

    it('throttling maps to the SDK ThrottlingError (fault rule Throttling.User)', known(`${mode}:ram.throttling`), async () => {
      await emu.addFault({ action: 'ListRoles', probability: 1, code: 'Throttling.User', status: 400 });
      try {
        await S.expectSdkError(ram.listRoles(new RAM.ListRolesRequest({})), {
          code: 'Throttling.User',
          statusCode: 400,
          name: 'ThrottlingError',
        });
      } finally {
        await emu.clearFaults();
      }
      const r = await ram.listRoles(new RAM.ListRolesRequest({}));
      assert.equal(r.statusCode, 200);
    });
  });

  describe(`RAM policies (${mode})`, () => {
    const policyName = `compat-${m}-policy`;
    const roleName = `compat-${m}-policy-role`;
    const doc = (n) => JSON.stringify(kmsPolicy(n));
    let ram;
    before(async () => {
      ram = S.clients.ram(emu, mode);
      await ram.createRole(
        new RAM.CreateRoleRequest({ roleName, assumeRolePolicyDocument: JSON.stringify(trustEcsOf(['1111111111111111'])) }),
      );
    });

    it('CreatePolicy returns a Custom policy at v1', known(`${mode}:ram.CreatePolicy`), async () => {
      const r = await ram.createPolicy(new RAM.CreatePolicyRequest({ policyName, policyDocument: doc(1), description: 'compat' }));
      const p = r.body.policy;
      assert.equal(p.policyName, policyName);
      assert.equal(p.policyType, 'Custom');
      assert.equal(p.defaultVersion, 'v1');
      assert.equal(p.description, 'compat');
      assert.match(p.createDate, S.ISO_SECONDS);
      S.assertWireTypes(ram, RAM.CreatePolicyResponseBody);
      await S.expectSdkError(ram.createPolicy(new RAM.CreatePolicyRequest({ policyName, policyDocument: doc(1) })), {
        code: 'EntityAlreadyExists.Policy',
        statusCode: 409,
      });
    });

    it('a document over 6,144 characters fails with InvalidParameter.PolicyDocument.Length', known(`${mode}:ram.CreatePolicy.length`), async () => {
      const big = kmsPolicy(0);
      big.Statement[1].Resource = [];
      while (JSON.stringify(big).length <= 6144) big.Statement[1].Resource.push(`acs:kms:${REGION}:${UID}:key/key-${big.Statement[1].Resource.length.toString().padStart(20, '0')}`);
      assert.ok(JSON.stringify(big).length > 6144);
      // Exactly 6,144 characters is still accepted: pad a Sid to the limit.
      const exact = kmsPolicy(0);
      exact.Statement[0].Sid = '';
      exact.Statement[0].Sid = 'x'.repeat(6144 - JSON.stringify(exact).length);
      assert.equal(JSON.stringify(exact).length, 6144);
      const ok = await ram.createPolicy(new RAM.CreatePolicyRequest({ policyName: `${policyName}-6144`, policyDocument: JSON.stringify(exact) }));
      assert.equal(ok.body.policy.defaultVersion, 'v1');
      await ram.deletePolicy(new RAM.DeletePolicyRequest({ policyName: `${policyName}-6144` }));
      await S.expectSdkError(ram.createPolicy(new RAM.CreatePolicyRequest({ policyName: `${policyName}-big`, policyDocument: JSON.stringify(big) })), {
        code: 'InvalidParameter.PolicyDocument.Length',
        statusCode: 400,
      });
    });

    it('an invalid policy name is InvalidParameter.PolicyName.InvalidChars', known(`${mode}:ram.CreatePolicy.badname`), async () => {
      await S.expectSdkError(ram.createPolicy(new RAM.CreatePolicyRequest({ policyName: 'bad.name_!', policyDocument: doc(1) })), {
        code: 'InvalidParameter.PolicyName.InvalidChars',
        statusCode: 400,
      });
    });

    it('System policies: looked up case-insensitively, returned in canonical case, shapes kept', known(`${mode}:ram.SystemPolicy`), async () => {
      const g = await ram.getPolicy(new RAM.GetPolicyRequest({ policyName: 'aliyunkmsfullaccess', policyType: 'System' }));
      assert.equal(g.body.policy.policyName, 'AliyunKMSFullAccess');
      assert.equal(g.body.policy.policyType, 'System');
      const d = JSON.parse(g.body.defaultPolicyVersion.policyDocument);
      assert.equal(typeof d.Statement[0].Action, 'string', 'System policies keep "Action":"kms:*" as a string');
      await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'System', policyName: 'aliyunkmsfullaccess', roleName }));
      const l = await ram.listPoliciesForRole(new RAM.ListPoliciesForRoleRequest({ roleName }));
      assert.deepEqual(l.body.policies.policy.map((p) => [p.policyName, p.policyType]), [['AliyunKMSFullAccess', 'System']]);
      await ram.detachPolicyFromRole(new RAM.DetachPolicyFromRoleRequest({ policyType: 'System', policyName: 'AliyunKMSFullAccess', roleName }));
    });

    it('CreatePolicyVersion adds v2, not default', known(`${mode}:ram.CreatePolicyVersion`), async () => {
      const r = await ram.createPolicyVersion(new RAM.CreatePolicyVersionRequest({ policyName, policyDocument: doc(2), setAsDefault: false }));
      const v = r.body.policyVersion;
      assert.equal(v.versionId, 'v2');
      assert.equal(v.isDefaultVersion, false);
      assert.match(v.createDate, S.ISO_SECONDS);
      S.assertSamePolicy(v.policyDocument, doc(2));
      S.assertWireTypes(ram, RAM.CreatePolicyVersionResponseBody);
    });

    it('ListPolicyVersions lists v1 (default) and v2', known(`${mode}:ram.ListPolicyVersions`), async () => {
      const r = await ram.listPolicyVersions(new RAM.ListPolicyVersionsRequest({ policyName, policyType: 'Custom' }));
      S.assertWireTypes(ram, RAM.ListPolicyVersionsResponseBody);
      const vs = r.body.policyVersions.policyVersion.map((v) => [v.versionId, v.isDefaultVersion]).sort();
      assert.deepEqual(vs, [
        ['v1', true],
        ['v2', false],
      ]);
      for (const v of r.body.policyVersions.policyVersion) S.assertSamePolicy(v.policyDocument, doc(Number(v.versionId.slice(1))));
    });

    it('GetPolicy returns the policy and its default version', known(`${mode}:ram.GetPolicy`), async () => {
      const r = await ram.getPolicy(new RAM.GetPolicyRequest({ policyName, policyType: 'Custom' }));
      S.assertWireTypes(ram, RAM.GetPolicyResponseBody);
      assert.equal(r.body.policy.policyName, policyName);
      assert.equal(r.body.policy.policyType, 'Custom');
      assert.equal(r.body.policy.defaultVersion, 'v1');
      assert.equal(r.body.policy.attachmentCount, 0);
      assert.equal(r.body.defaultPolicyVersion.versionId, 'v1');
      assert.equal(r.body.defaultPolicyVersion.isDefaultVersion, true);
      S.assertSamePolicy(r.body.defaultPolicyVersion.policyDocument, doc(1));
      await S.expectSdkError(ram.getPolicy(new RAM.GetPolicyRequest({ policyName: 'missing-policy', policyType: 'Custom' })), {
        code: 'EntityNotExist.Policy',
        statusCode: 404,
      });
    });

    it('GetPolicyVersion returns v2; a missing version is EntityNotExist.Policy.Version', known(`${mode}:ram.GetPolicyVersion`), async () => {
      const r = await ram.getPolicyVersion(new RAM.GetPolicyVersionRequest({ policyName, policyType: 'Custom', versionId: 'v2' }));
      S.assertWireTypes(ram, RAM.GetPolicyVersionResponseBody);
      assert.equal(r.body.policyVersion.versionId, 'v2');
      assert.equal(r.body.policyVersion.isDefaultVersion, false);
      S.assertSamePolicy(r.body.policyVersion.policyDocument, doc(2));
      await S.expectSdkError(
        ram.getPolicyVersion(new RAM.GetPolicyVersionRequest({ policyName, policyType: 'Custom', versionId: 'v9' })),
        { code: 'EntityNotExist.Policy.Version', statusCode: 404 },
      );
    });

    it('custom policy documents come back as submitted (byte for byte)', known(`${mode}:ram.PolicyDocument.verbatim`), async () => {
      // Unlike trust documents, RAM was never seen to re-serialise custom policy documents (docs/alibaba-api.md §3).
      const r = await ram.getPolicyVersion(new RAM.GetPolicyVersionRequest({ policyName, policyType: 'Custom', versionId: 'v2' }));
      assert.equal(r.body.policyVersion.policyDocument, doc(2));
    });

    it('SetDefaultPolicyVersion makes v2 the default', known(`${mode}:ram.SetDefaultPolicyVersion`), async () => {
      const r = await ram.setDefaultPolicyVersion(new RAM.SetDefaultPolicyVersionRequest({ policyName, versionId: 'v2' }));
      assert.equal(r.statusCode, 200);
      const g = await ram.getPolicy(new RAM.GetPolicyRequest({ policyName, policyType: 'Custom' }));
      assert.equal(g.body.policy.defaultVersion, 'v2');
      S.assertSamePolicy(g.body.defaultPolicyVersion.policyDocument, doc(2));
    });

    it('DeletePolicyVersion refuses the default (DeleteConflict.Policy.Version.Default) and deletes v1', known(`${mode}:ram.DeletePolicyVersion`), async () => {
      await S.expectSdkError(ram.deletePolicyVersion(new RAM.DeletePolicyVersionRequest({ policyName, versionId: 'v2' })), {
        code: 'DeleteConflict.Policy.Version.Default',
        statusCode: 409,
      });
      await ram.deletePolicyVersion(new RAM.DeletePolicyVersionRequest({ policyName, versionId: 'v1' }));
      const r = await ram.listPolicyVersions(new RAM.ListPolicyVersionsRequest({ policyName, policyType: 'Custom' }));
      assert.deepEqual(r.body.policyVersions.policyVersion.map((v) => v.versionId), ['v2']);
    });

    it('five versions at most: LimitExceeded.Policy.Version, or RotateStrategy deletes the oldest non-default', known(`${mode}:ram.CreatePolicyVersion.limit`), async () => {
      for (const n of [3, 4, 5, 6]) {
        const r = await ram.createPolicyVersion(new RAM.CreatePolicyVersionRequest({ policyName, policyDocument: doc(n) }));
        assert.equal(r.body.policyVersion.versionId, `v${n}`, 'version ids only increase');
      }
      await S.expectSdkError(ram.createPolicyVersion(new RAM.CreatePolicyVersionRequest({ policyName, policyDocument: doc(7) })), {
        code: 'LimitExceeded.Policy.Version',
        statusCode: 409,
      });
      const r = await ram.createPolicyVersion(
        new RAM.CreatePolicyVersionRequest({
          policyName,
          policyDocument: doc(7),
          setAsDefault: true,
          rotateStrategy: 'DeleteOldestNonDefaultVersionWhenLimitExceeded',
        }),
      );
      assert.equal(r.body.policyVersion.versionId, 'v7');
      assert.equal(r.body.policyVersion.isDefaultVersion, true);
      const l = await ram.listPolicyVersions(new RAM.ListPolicyVersionsRequest({ policyName, policyType: 'Custom' }));
      const vs = l.body.policyVersions.policyVersion.map((v) => [v.versionId, v.isDefaultVersion]).sort();
      // v2 was the default when the limit was hit, so the oldest non-default, v3, went.
      assert.deepEqual(vs, [
        ['v2', false],
        ['v4', false],
        ['v5', false],
        ['v6', false],
        ['v7', true],
      ]);
    });

    it('AttachPolicyToRole, ListPoliciesForRole, DetachPolicyFromRole', known(`${mode}:ram.AttachPolicyToRole`), async () => {
      const a = await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName, roleName }));
      assert.equal(a.statusCode, 200);
      await S.expectSdkError(ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName, roleName })), {
        code: 'EntityAlreadyExists.Role.Policy',
        statusCode: 409,
      });
      const l = await ram.listPoliciesForRole(new RAM.ListPoliciesForRoleRequest({ roleName }));
      S.assertWireTypes(ram, RAM.ListPoliciesForRoleResponseBody);
      const ps = l.body.policies.policy;
      assert.equal(ps.length, 1);
      assert.equal(ps[0].policyName, policyName);
      assert.equal(ps[0].policyType, 'Custom');
      assert.equal(ps[0].defaultVersion, 'v7');
      assert.match(ps[0].attachDate, S.ISO_SECONDS);
      const g = await ram.getPolicy(new RAM.GetPolicyRequest({ policyName, policyType: 'Custom' }));
      assert.equal(g.body.policy.attachmentCount, 1);
      await ram.detachPolicyFromRole(new RAM.DetachPolicyFromRoleRequest({ policyType: 'Custom', policyName, roleName }));
      const l2 = await ram.listPoliciesForRole(new RAM.ListPoliciesForRoleRequest({ roleName }));
      assert.deepEqual(l2.body.policies.policy, []);
      await S.expectSdkError(ram.detachPolicyFromRole(new RAM.DetachPolicyFromRoleRequest({ policyType: 'Custom', policyName, roleName })), {
        code: 'EntityNotExist.Role.Policy',
        statusCode: 404,
      });
      await S.expectSdkError(ram.listPoliciesForRole(new RAM.ListPoliciesForRoleRequest({ roleName: 'missing-role' })), {
        code: 'EntityNotExist.Role',
        statusCode: 404,
      });
      await S.expectSdkError(
        ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName: 'missing-policy', roleName })),
        { code: 'EntityNotExist.Policy', statusCode: 404 },
      );
    });

    it('ListPolicies and ListEntitiesForPolicy', known(`${mode}:ram.ListPolicies`), async () => {
      const l = await ram.listPolicies(new RAM.ListPoliciesRequest({ policyType: 'Custom', maxItems: 1000 }));
      S.assertWireTypes(ram, RAM.ListPoliciesResponseBody);
      assert.equal(l.body.isTruncated, false);
      const mine = l.body.policies.policy.find((p) => p.policyName === policyName);
      assert.ok(mine, 'our policy is listed');
      assert.equal(mine.policyType, 'Custom');
      assert.equal(mine.defaultVersion, 'v7');
      assert.ok(l.body.policies.policy.every((p) => p.policyType === 'Custom'), 'PolicyType filter');
      await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName, roleName }));
      try {
        const e = await ram.listEntitiesForPolicy(new RAM.ListEntitiesForPolicyRequest({ policyName, policyType: 'Custom' }));
        S.assertWireTypes(ram, RAM.ListEntitiesForPolicyResponseBody);
        assert.deepEqual(e.body.roles.role.map((r) => r.roleName), [roleName]);
        assert.match(e.body.roles.role[0].attachDate, S.ISO_SECONDS);
      } finally {
        await ram.detachPolicyFromRole(new RAM.DetachPolicyFromRoleRequest({ policyType: 'Custom', policyName, roleName }));
      }
    });

    it('DeletePolicy with CascadingDelete removes a policy that still has versions', known(`${mode}:ram.DeletePolicy.cascading`), async () => {
      const name = `${policyName}-cascade`;
      await ram.createPolicy(new RAM.CreatePolicyRequest({ policyName: name, policyDocument: doc(1) }));
      await ram.createPolicyVersion(new RAM.CreatePolicyVersionRequest({ policyName: name, policyDocument: doc(2) }));
      await ram.deletePolicy(new RAM.DeletePolicyRequest({ policyName: name, cascadingDelete: true }));
      await S.expectSdkError(ram.getPolicy(new RAM.GetPolicyRequest({ policyName: name, policyType: 'Custom' })), {
        code: 'EntityNotExist.Policy',
        statusCode: 404,
      });
    });

    it('a System policy is not found as Custom; UpdateRole with a malformed document is MalformedPolicyDocument', known(`${mode}:ram.misc-errors`), async () => {
      await S.expectSdkError(ram.getPolicy(new RAM.GetPolicyRequest({ policyName: 'AliyunKMSFullAccess', policyType: 'Custom' })), {
        code: 'EntityNotExist.Policy',
        statusCode: 404,
      });
      await S.expectSdkError(ram.updateRole(new RAM.UpdateRoleRequest({ roleName, newAssumeRolePolicyDocument: '{"Statement":' })), {
        code: 'MalformedPolicyDocument',
        statusCode: 400,
      });
    });

    it('DeleteRole / DeletePolicy conflicts, then both deleted', known(`${mode}:ram.Delete`), async () => {
      await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName, roleName }));
      await S.expectSdkError(ram.deleteRole(new RAM.DeleteRoleRequest({ roleName })), { code: 'DeleteConflict.Role.Policy', statusCode: 409 });
      await ram.detachPolicyFromRole(new RAM.DetachPolicyFromRoleRequest({ policyType: 'Custom', policyName, roleName }));
      await S.expectSdkError(ram.deletePolicy(new RAM.DeletePolicyRequest({ policyName })), {
        code: 'DeleteConflict.Policy.Version',
        statusCode: 409,
      });
      for (const v of ['v2', 'v4', 'v5', 'v6']) await ram.deletePolicyVersion(new RAM.DeletePolicyVersionRequest({ policyName, versionId: v }));
      await ram.deletePolicy(new RAM.DeletePolicyRequest({ policyName }));
      await ram.deleteRole(new RAM.DeleteRoleRequest({ roleName }));
      await S.expectSdkError(ram.getRole(new RAM.GetRoleRequest({ roleName })), { code: 'EntityNotExist.Role', statusCode: 404 });
      await S.expectSdkError(ram.getPolicy(new RAM.GetPolicyRequest({ policyName, policyType: 'Custom' })), {
        code: 'EntityNotExist.Policy',
        statusCode: 404,
      });
    });
  });

  describe(`STS (${mode})`, () => {
    const roleName = `compat-${m}-sts-role`;
    let sts;
    let role;
    before(async () => {
      sts = S.clients.sts(emu, mode);
      const r = await S.clients.ram(emu, mode).createRole(
        new RAM.CreateRoleRequest({ roleName, assumeRolePolicyDocument: JSON.stringify(trustAccountRoot()), maxSessionDuration: 3600 }),
      );
      role = r.body.role;
    });

    it('GetCallerIdentity with a RAM user AccessKey', known(`${mode}:sts.GetCallerIdentity`), async () => {
      const r = await sts.getCallerIdentity();
      S.assertWireTypes(sts, STS.GetCallerIdentityResponseBody);
      assert.equal(r.body.accountId, UID);
      assert.equal(typeof sts.lastRaw.AccountId, 'string', 'UIDs are strings on the wire');
      assert.equal(r.body.identityType, 'RAMUser');
      assert.equal(r.body.arn, `acs:ram::${UID}:user/share-daemon`);
      assert.ok(r.body.userId);
    });

    it('GetCallerIdentity with the account (root) AccessKey', known(`${mode}:sts.GetCallerIdentity.root`), async () => {
      const c = S.clients.sts(emu, mode, S.ROOT);
      const r = await c.getCallerIdentity();
      S.assertWireTypes(c, STS.GetCallerIdentityResponseBody);
      assert.equal(r.body.accountId, UID);
      assert.equal(r.body.identityType, 'Account');
      assert.equal(r.body.arn, `acs:ram::${UID}:root`);
    });

    it('GetCallerIdentity with a seeded STS token (static_sts credentials)', known(`${mode}:sts.GetCallerIdentity.sts`), async () => {
      const c = S.clients.sts(emu, mode, { accessKeyId: S.STS_AK, accessKeySecret: S.STS_SK, securityToken: S.STS_TOKEN });
      const r = await c.getCallerIdentity();
      assert.equal(r.body.accountId, UID);
      assert.equal(r.body.identityType, 'AssumedRoleUser');
      assert.equal(r.body.arn, `acs:ram::${UID}:assumed-role/daemon/session`);
    });

    it('an unknown AccessKeyId is InvalidAccessKeyId.NotFound; a wrong secret SignatureDoesNotMatch', known(`${mode}:sts.auth-errors`), async () => {
      await S.expectSdkError(S.clients.sts(emu, mode, { accessKeyId: 'LTAI5tNoSuchKey000001', accessKeySecret: 'x' }).getCallerIdentity(), {
        code: 'InvalidAccessKeyId.NotFound',
      });
      await S.expectSdkError(S.clients.sts(emu, mode, { accessKeyId: S.AK, accessKeySecret: 'WrongSecret' }).getCallerIdentity(), {
        code: 'SignatureDoesNotMatch',
      });
    });

    let temp;
    it('AssumeRole returns temporary credentials', known(`${mode}:sts.AssumeRole`), async () => {
      const before_ = Date.now();
      const r = await sts.assumeRole(new STS.AssumeRoleRequest({ roleArn: role.arn, roleSessionName: 'compat-session', durationSeconds: 900 }));
      S.assertWireTypes(sts, STS.AssumeRoleResponseBody);
      const c = r.body.credentials;
      assert.match(c.accessKeyId, /^STS\./);
      assert.ok(c.accessKeySecret.length > 0);
      assert.ok(c.securityToken.length > 0);
      assert.match(c.expiration, S.ISO_SECONDS, 'Expiration without milliseconds (the credentials SDK parses it strictly)');
      const ttl = (Date.parse(c.expiration) - before_) / 1000;
      assert.ok(ttl > 850 && ttl < 960, `DurationSeconds honoured (ttl ${ttl}s)`);
      const u = r.body.assumedRoleUser;
      assert.equal(u.arn.toLowerCase(), `acs:ram::${UID}:role/${roleName}/compat-session`.toLowerCase());
      assert.equal(u.assumedRoleId, `${role.roleId}:compat-session`);
      temp = c;
    });

    it('a call signed with the returned STS credentials is accepted', known(`${mode}:sts.AssumeRole.use`), async () => {
      assert.ok(temp, 'AssumeRole succeeded');
      const c = S.clients.sts(emu, mode, { accessKeyId: temp.accessKeyId, accessKeySecret: temp.accessKeySecret, securityToken: temp.securityToken });
      const r = await c.getCallerIdentity();
      assert.equal(r.body.accountId, UID);
      assert.equal(r.body.identityType, 'AssumedRoleUser');
      assert.equal(r.body.roleId, role.roleId);
      assert.match(r.body.arn.toLowerCase(), new RegExp(`${roleName}/compat-session$`));
    });

    it('STS credentials with a wrong SecurityToken are rejected', known(`${mode}:sts.token-mismatch`), async () => {
      assert.ok(temp, 'AssumeRole succeeded');
      const c = S.clients.sts(emu, mode, { accessKeyId: temp.accessKeyId, accessKeySecret: temp.accessKeySecret, securityToken: S.STS_TOKEN });
      let err;
      await c.getCallerIdentity().catch((e) => {
        err = e;
      });
      assert.ok(err, 'rejected');
      assert.match(err.code, /^InvalidSecurityToken\./);
    });

    it('AssumeRoleWithOIDC (anonymous) with the seeded OIDC provider', known(`${mode}:sts.AssumeRoleWithOIDC.ok`), async () => {
      const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const token = `${b64url({ alg: 'RS256' })}.${b64url({ sub: 'system:serviceaccount:sharekeeper:daemon', aud: 'sts.aliyuncs.com' })}.c2ln`;
      const r = await sts.assumeRoleWithOIDC(
        new STS.AssumeRoleWithOIDCRequest({
          roleArn: `acs:ram::${UID}:role/share-daemon`,
          OIDCProviderArn: `acs:ram::${UID}:oidc-provider/ack-rrsa-c123`,
          OIDCToken: token,
          roleSessionName: 'compat-oidc',
          durationSeconds: 900,
        }),
      );
      S.assertWireTypes(sts, STS.AssumeRoleWithOIDCResponseBody);
      assert.match(r.body.credentials.accessKeyId, /^STS\./);
      assert.equal(r.body.assumedRoleUser.arn.toLowerCase(), `acs:ram::${UID}:role/share-daemon/compat-oidc`);
      assert.equal(r.body.OIDCTokenInfo.subject, 'system:serviceaccount:sharekeeper:daemon');
      // ClientIds is one string (audiences joined by commas), per the SDK model.
      assert.equal(r.body.OIDCTokenInfo.clientIds, 'sts.aliyuncs.com');
    });

    it('AssumeRoleWithOIDC with an unknown OIDC provider is EntityNotExist.OIDCProvider', known(`${mode}:sts.AssumeRoleWithOIDC.unknown`), async () => {
      const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const token = `${b64url({ alg: 'RS256' })}.${b64url({ sub: 'x', aud: 'sts.aliyuncs.com' })}.c2ln`;
      await S.expectSdkError(
        sts.assumeRoleWithOIDC(
          new STS.AssumeRoleWithOIDCRequest({
            roleArn: `acs:ram::${UID}:role/share-daemon`,
            OIDCProviderArn: `acs:ram::${UID}:oidc-provider/not-there`,
            OIDCToken: token,
            roleSessionName: 'compat-oidc',
          }),
        ),
        { code: 'EntityNotExist.OIDCProvider', statusCode: 404 },
      );
    });

    it('AssumeRole session Policy: invalid grammar and over 2,048 characters are refused', known(`${mode}:sts.AssumeRole.policy`), async () => {
      const req = (policy) => new STS.AssumeRoleRequest({ roleArn: role.arn, roleSessionName: 'compat-session', policy });
      await S.expectSdkError(sts.assumeRole(req('{"Version": "1", "Statement": [')), { code: 'InvalidParameter.PolicyGrammar', statusCode: 400 });
      const big = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['ecs:Describe*'], Resource: ['x'.repeat(2100)] }] });
      await S.expectSdkError(sts.assumeRole(req(big)), { code: 'InvalidParameter.PolicySize', statusCode: 400 });
      const narrow = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['ecs:Describe*'], Resource: ['*'] }] });
      const r = await sts.assumeRole(req(narrow));
      assert.match(r.body.credentials.accessKeyId, /^STS\./);
    });

    it('AssumeRole errors: root caller or untrusted caller NoPermission, missing role EntityNotExist.Role, too long InvalidParameter.DurationSeconds', known(`${mode}:sts.AssumeRole.errors`), async () => {
      await S.expectSdkError(
        S.clients.sts(emu, mode, S.ROOT).assumeRole(new STS.AssumeRoleRequest({ roleArn: role.arn, roleSessionName: 'compat-session' })),
        { code: 'NoPermission', statusCode: 403 },
      );
      const ram = S.clients.ram(emu, mode);
      const untrusted = `compat-${m}-untrusted`;
      const u = await ram.createRole(new RAM.CreateRoleRequest({ roleName: untrusted, assumeRolePolicyDocument: JSON.stringify(trustEcsOf([UID])) }));
      await S.expectSdkError(sts.assumeRole(new STS.AssumeRoleRequest({ roleArn: u.body.role.arn, roleSessionName: 'compat-session' })), {
        code: 'NoPermission',
        statusCode: 403,
      });
      await S.expectSdkError(
        sts.assumeRole(new STS.AssumeRoleRequest({ roleArn: `acs:ram::${UID}:role/missing-role`, roleSessionName: 'compat-session' })),
        { code: 'EntityNotExist.Role', statusCode: 404 },
      );
      await S.expectSdkError(
        sts.assumeRole(new STS.AssumeRoleRequest({ roleArn: role.arn, roleSessionName: 'compat-session', durationSeconds: 7200 })),
        { code: 'InvalidParameter.DurationSeconds', statusCode: 400 },
      );
    });
  });

  describe(`ECS (${mode})`, () => {
    let ecs;
    let ram;
    before(() => {
      ecs = S.clients.ecs(emu, mode);
      ram = S.clients.ram(emu, mode);
    });
    const ids = (r) => r.body.snapshots.snapshot.map((s) => s.snapshotId).sort();

    it('DescribeSnapshots with SnapshotIds and Tag filters', known(`${mode}:ecs.DescribeSnapshots`), async () => {
      const r = await ecs.describeSnapshots(
        new ECS.DescribeSnapshotsRequest({
          regionId: REGION,
          snapshotIds: JSON.stringify(['s-bp1aaaa', 's-bp1bbbb', 's-bp1cccc']),
          tag: [{ key: 'share', value: 'yes' }],
          maxResults: 100,
        }),
      );
      S.assertWireTypes(ecs, ECS.DescribeSnapshotsResponseBody);
      assert.deepEqual(ids(r), ['s-bp1aaaa', 's-bp1bbbb']);
      assert.equal(r.body.totalCount, 2);
      const a = r.body.snapshots.snapshot.find((s) => s.snapshotId === 's-bp1aaaa');
      assert.equal(a.encrypted, true);
      assert.equal(a.KMSKeyId, 'key-hzz63a1b2c3d4e5f6compat');
      assert.equal(a.regionId, REGION);
      assert.deepEqual(a.tags.tag.map((t) => [t.tagKey, t.tagValue]), [['share', 'yes']]);
      const b = r.body.snapshots.snapshot.find((s) => s.snapshotId === 's-bp1bbbb');
      assert.equal(b.encrypted, false);
    });

    it('DescribeSnapshots Encrypted and KMSKeyId filters', known(`${mode}:ecs.DescribeSnapshots.encrypted`), async () => {
      const r = await ecs.describeSnapshots(new ECS.DescribeSnapshotsRequest({ regionId: REGION, encrypted: true, maxResults: 100 }));
      assert.deepEqual(ids(r), ['s-bp1aaaa', 's-bp1cccc', 's-bp1dddd']);
      const k = await ecs.describeSnapshots(new ECS.DescribeSnapshotsRequest({ regionId: REGION, KMSKeyId: 'key-hzz6ecsservicekey00001', maxResults: 100 }));
      assert.deepEqual(ids(k), ['s-bp1dddd']);
    });

    it('DescribeSnapshots with more than 100 SnapshotIds is InvalidSnapshotIds.Malformed', known(`${mode}:ecs.DescribeSnapshots.tooMany`), async () => {
      const many = Array.from({ length: 101 }, (_, i) => `s-bp1x${String(i).padStart(4, '0')}`);
      await S.expectSdkError(ecs.describeSnapshots(new ECS.DescribeSnapshotsRequest({ regionId: REGION, snapshotIds: JSON.stringify(many) })), {
        code: 'InvalidSnapshotIds.Malformed',
        statusCode: 403,
      });
    });

    it('DescribeSnapshots Filter.N CreationStartTime/CreationEndTime', known(`${mode}:ecs.DescribeSnapshots.creationTime`), async () => {
      const r = await ecs.describeSnapshots(
        new ECS.DescribeSnapshotsRequest({
          regionId: REGION,
          maxResults: 100,
          filter: [
            { key: 'CreationStartTime', value: '2023-12-31T00:00Z' },
            { key: 'CreationEndTime', value: '2024-01-02T00:00Z' },
          ],
        }),
      );
      assert.deepEqual(ids(r), ['s-bp1eeee']);
      assert.equal(r.body.snapshots.snapshot[0].creationTime, '2024-01-01T00:00:00Z');
    });

    it('DescribeSnapshots is regional and pages 10 at a time by default', known(`${mode}:ecs.DescribeSnapshots.defaults`), async () => {
      // Without MaxResults/NextToken the (older) PageNumber/PageSize paging applies, 10 per page.
      const first = await ecs.describeSnapshots(new ECS.DescribeSnapshotsRequest({ regionId: 'cn-shanghai' }));
      assert.equal(first.body.snapshots.snapshot.length, 10, 'a page holds 10 by default');
      assert.equal(first.body.pageSize, 10);
      assert.equal(first.body.totalCount, 12);
      const rest = await ecs.describeSnapshots(new ECS.DescribeSnapshotsRequest({ regionId: 'cn-shanghai', pageNumber: 2 }));
      assert.equal(rest.body.snapshots.snapshot.length, 2);
      assert.equal(rest.body.pageNumber, 2);
      const all = [...ids(first), ...ids(rest)];
      assert.equal(new Set(all).size, 12);
      assert.ok(all.every((id) => id.startsWith('s-uf6page')), 'only cn-shanghai snapshots');
    });

    it('DescribeSnapshots pages with MaxResults/NextToken', known(`${mode}:ecs.DescribeSnapshots.paging`), async () => {
      const seen = [];
      let nextToken;
      for (let i = 0; i < 10; i++) {
        const r = await ecs.describeSnapshots(new ECS.DescribeSnapshotsRequest({ regionId: REGION, maxResults: 2, nextToken }));
        assert.ok(r.body.snapshots.snapshot.length <= 2);
        seen.push(...ids(r));
        nextToken = r.body.nextToken;
        if (!nextToken) break;
      }
      assert.deepEqual(seen.sort(), ['s-bp1aaaa', 's-bp1bbbb', 's-bp1cccc', 's-bp1dddd', 's-bp1eeee']);
    });

    it('DescribeImages returns the image with a numeric ImageOwnerId and its disk mappings', known(`${mode}:ecs.DescribeImages`), async () => {
      const r = await ecs.describeImages(new ECS.DescribeImagesRequest({ regionId: REGION, imageId: 'm-bp1testimage0001' }));
      S.assertWireTypes(ecs, ECS.DescribeImagesResponseBody);
      assert.equal(r.body.totalCount, 1);
      const img = r.body.images.image[0];
      assert.equal(img.imageId, 'm-bp1testimage0001');
      assert.equal(typeof ecs.lastRaw.Images.Image[0].ImageOwnerId, 'number', 'ImageOwnerId is an int64 on the wire');
      assert.equal(img.imageOwnerId, Number(UID));
      assert.equal(img.imageOwnerAlias, 'self');
      assert.ok(['true', 'false'].includes(img.isSelfShared), 'IsSelfShared is the string "true"/"false"');
      assert.deepEqual(img.diskDeviceMappings.diskDeviceMapping.map((d) => d.snapshotId), ['s-bp1bbbb']);
      const all = await ecs.describeImages(new ECS.DescribeImagesRequest({ regionId: REGION, imageOwnerAlias: 'self', pageSize: 100 }));
      assert.deepEqual(all.body.images.image.map((i) => i.imageId).sort(), ['m-bp1encimage00001', 'm-bp1svcimage00001', 'm-bp1testimage0001']);
    });

    it('DescribeImages with an unknown ImageOwnerAlias is InvalidImageOwnerAlias.ValueNotSupported', known(`${mode}:ecs.DescribeImages.alias`), async () => {
      await S.expectSdkError(ecs.describeImages(new ECS.DescribeImagesRequest({ regionId: REGION, imageOwnerAlias: 'nobody' })), {
        code: 'InvalidImageOwnerAlias.ValueNotSupported',
        statusCode: 400,
      });
    });

    const twelve = Array.from({ length: 12 }, (_, i) => `10000000000000${String(i + 1).padStart(2, '0')}`);
    const sharedIds = async (imageId, pageSize = 100) => {
      const r = await ecs.describeImageSharePermission(new ECS.DescribeImageSharePermissionRequest({ regionId: REGION, imageId, pageSize }));
      return { r, ids: r.body.accounts.account.map((a) => a.aliyunId).sort() };
    };

    it('ModifyImageSharePermission applies only the first 10 AddAccount entries, silently', known(`${mode}:ecs.ModifyImageSharePermission.truncation`), async () => {
      const r = await ecs.modifyImageSharePermission(
        new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', addAccount: twelve }),
      );
      assert.equal(r.statusCode, 200);
      const { r: d, ids: got } = await sharedIds('m-bp1testimage0001');
      assert.deepEqual(got, twelve.slice(0, 10));
      assert.equal(d.body.totalCount, 10);
    });

    it('the recipient sees a shared image as ImageOwnerAlias=others, owned by the sharer', known(`${mode}:ecs.DescribeImages.shared`), async () => {
      const theirs = S.clients.ecs(emu, mode, S.RECIPIENT);
      const others = async () =>
        (await theirs.describeImages(new ECS.DescribeImagesRequest({ regionId: REGION, imageOwnerAlias: 'others', pageSize: 100 }))).body.images.image;
      // 1000000000000001..10 hold the share from the previous test; 1111111111111111 does not.
      assert.deepEqual((await others()).map((i) => i.imageId), []);
      await ecs.modifyImageSharePermission(
        new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', addAccount: ['1111111111111111'] }),
      );
      try {
        const imgs = await others();
        assert.deepEqual(imgs.map((i) => i.imageId), ['m-bp1testimage0001']);
        assert.equal(imgs[0].imageOwnerId, Number(UID));
        assert.equal(imgs[0].imageOwnerAlias, 'others');
        const self = await theirs.describeImages(new ECS.DescribeImagesRequest({ regionId: REGION, imageOwnerAlias: 'self' }));
        assert.deepEqual(self.body.images.image, [], 'not the recipient\'s own image');
      } finally {
        await ecs.modifyImageSharePermission(
          new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', removeAccount: ['1111111111111111'] }),
        );
      }
      assert.deepEqual((await others()).map((i) => i.imageId), [], 'gone once unshared');
    });

    it('DescribeImageSharePermission shape and paging', known(`${mode}:ecs.DescribeImageSharePermission`), async () => {
      const { r, ids: page } = await sharedIds('m-bp1testimage0001', 3);
      S.assertWireTypes(ecs, ECS.DescribeImageSharePermissionResponseBody);
      assert.equal(r.body.imageId, 'm-bp1testimage0001');
      assert.equal(r.body.regionId, REGION);
      assert.equal(r.body.totalCount, 10);
      assert.equal(r.body.pageSize, 3);
      assert.equal(page.length, 3);
      for (const a of r.body.accounts.account) {
        assert.equal(typeof a.aliyunId, 'string');
        assert.match(a.sharedTime, S.ISO_SECONDS);
      }
      const p2 = await ecs.describeImageSharePermission(
        new ECS.DescribeImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', pageSize: 3, pageNumber: 4 }),
      );
      assert.equal(p2.body.accounts.account.length, 1);
      assert.equal(p2.body.pageNumber, 4);
      await S.expectSdkError(
        ecs.describeImageSharePermission(new ECS.DescribeImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1missing000001' })),
        { code: 'InvalidImageId.NotFound', statusCode: 404 },
      );
    });

    it('ModifyImageSharePermission RemoveAccount unshares', known(`${mode}:ecs.ModifyImageSharePermission.remove`), async () => {
      await ecs.modifyImageSharePermission(
        new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', removeAccount: twelve.slice(0, 10) }),
      );
      const { r, ids: got } = await sharedIds('m-bp1testimage0001');
      assert.deepEqual(got, []);
      assert.equal(r.body.totalCount, 0);
      await S.expectSdkError(
        ecs.modifyImageSharePermission(new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1missing000001', addAccount: ['1111111111111111'] })),
        { code: 'InvalidImageId.NotFound', statusCode: 404 },
      );
    });

    it('RemoveAccount beyond 10 entries is silently ignored too', known(`${mode}:ecs.ModifyImageSharePermission.removeTruncation`), async () => {
      const modify = (o) => ecs.modifyImageSharePermission(new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', ...o }));
      await modify({ addAccount: twelve.slice(0, 10) });
      await modify({ addAccount: twelve.slice(10) });
      assert.equal((await sharedIds('m-bp1testimage0001')).ids.length, 12);
      await modify({ removeAccount: twelve });
      assert.deepEqual((await sharedIds('m-bp1testimage0001')).ids, twelve.slice(10), 'only the first 10 RemoveAccount entries applied');
      await modify({ removeAccount: twelve.slice(10) });
      assert.deepEqual((await sharedIds('m-bp1testimage0001')).ids, []);
    });

    const addTo = (imageId, accounts) =>
      ecs.modifyImageSharePermission(new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId, addAccount: accounts }));

    it('sharing with an account that does not exist is InvalidAccount.NotFound', known(`${mode}:ecs.ModifyImageSharePermission.unknownAccount`), async () => {
      try {
        await S.expectSdkError(addTo('m-bp1testimage0001', ['5555555555555555']), { code: 'InvalidAccount.NotFound', statusCode: 404 });
      } finally {
        await ecs.modifyImageSharePermission(
          new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', removeAccount: ['5555555555555555'] }),
        );
      }
    });

    it('sharing with the owner itself is InvalidAccount.Forbbiden', known(`${mode}:ecs.ModifyImageSharePermission.self`), async () => {
      // "Forbbiden" is the real (misspelt) code.
      await S.expectSdkError(addTo('m-bp1testimage0001', [UID]), { code: 'InvalidAccount.Forbbiden', statusCode: 404 });
      assert.deepEqual((await sharedIds('m-bp1testimage0001')).ids, []);
    });

    it('at most 50 accounts per image (QuotaExceed.ShareImage*)', known(`${mode}:ecs.ModifyImageSharePermission.quota`), async () => {
      const fifty = Array.from({ length: 50 }, (_, i) => `10000000000000${String(i + 1).padStart(2, '0')}`);
      for (let i = 0; i < 50; i += 10) {
        await ecs.modifyImageSharePermission(
          new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', addAccount: fifty.slice(i, i + 10) }),
        );
      }
      assert.equal((await sharedIds('m-bp1testimage0001')).ids.length, 50);
      const byDefault = await ecs.describeImageSharePermission(new ECS.DescribeImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001' }));
      assert.equal(byDefault.body.accounts.account.length, 10, 'PageSize defaults to 10');
      assert.equal(byDefault.body.pageSize, 10);
      assert.equal(byDefault.body.totalCount, 50);
      let err;
      await ecs
        .modifyImageSharePermission(new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', addAccount: ['1000000000000051'] }))
        .catch((e) => {
          err = e;
        });
      assert.ok(err, '51st account refused');
      assert.match(err.code, /^QuotaExceed\.ShareImage/);
      assert.equal(err.statusCode, 403);
      const after = (await sharedIds('m-bp1testimage0001')).ids;
      assert.equal(after.length, 50);
      assert.ok(!after.includes('1000000000000051'));
      for (let i = 0; i < 50; i += 10) {
        await ecs.modifyImageSharePermission(
          new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', removeAccount: fifty.slice(i, i + 10) }),
        );
      }
      assert.deepEqual((await sharedIds('m-bp1testimage0001')).ids, []);
    });

    it('DryRun answers DryRunOperation and changes nothing', known(`${mode}:ecs.DryRun`), async () => {
      await S.expectSdkError(
        ecs.modifyImageSharePermission(
          new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1testimage0001', addAccount: ['1111111111111111'], dryRun: true }),
        ),
        { code: 'DryRunOperation', statusCode: 400 },
      );
      assert.deepEqual((await sharedIds('m-bp1testimage0001')).ids, []);
    });

    it('sharing a CMK-encrypted image needs AliyunECSShareEncryptImageDefaultRole trusting the recipient (AssumeRoleError)', known(`${mode}:ecs.ModifyImageSharePermission.encrypted`), async () => {
      const req = new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1encimage00001', addAccount: ['1111111111111111'] });
      await S.expectSdkError(ecs.modifyImageSharePermission(req), { code: 'AssumeRoleError', statusCode: 403 });
      const roleName = 'AliyunECSShareEncryptImageDefaultRole';
      await ram.createRole(new RAM.CreateRoleRequest({ roleName, assumeRolePolicyDocument: JSON.stringify(trustEcsOf(['2222222222222222'])) }));
      try {
        await S.expectSdkError(ecs.modifyImageSharePermission(req), { code: 'AssumeRoleError', statusCode: 403 });
        await ram.updateRole(new RAM.UpdateRoleRequest({ roleName, newAssumeRolePolicyDocument: JSON.stringify(trustEcsOf(['2222222222222222', '1111111111111111'])) }));
        const r = await ecs.modifyImageSharePermission(req);
        assert.equal(r.statusCode, 200);
        assert.deepEqual((await sharedIds('m-bp1encimage00001')).ids, ['1111111111111111']);
        await ecs.modifyImageSharePermission(
          new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1encimage00001', removeAccount: ['1111111111111111'] }),
        );
      } finally {
        await ram.deleteRole(new RAM.DeleteRoleRequest({ roleName }));
      }
    });

    it('an image encrypted with a service key cannot be shared', known(`${mode}:ecs.ModifyImageSharePermission.servicekey`), async () => {
      let err;
      await ecs
        .modifyImageSharePermission(new ECS.ModifyImageSharePermissionRequest({ regionId: REGION, imageId: 'm-bp1svcimage00001', addAccount: ['1111111111111111'] }))
        .catch((e) => {
          err = e;
        });
      assert.ok(err, 'refused');
      assert.equal(err.name, 'ClientError');
      assert.equal((await sharedIds('m-bp1svcimage00001')).ids.length, 0);
    });
  });

  describe(`KMS via openapi-core callApi (${mode})`, () => {
    let api;
    before(() => {
      api = S.clients.openapi(emu, mode);
    });

    it('DescribeKey of a CMK and of the ECS service key', known(`${mode}:kms.DescribeKey`), async () => {
      const b = await S.callRpc(api, 'Kms', 'DescribeKey', { KeyId: 'key-hzz63a1b2c3d4e5f6compat' });
      assert.equal(b.KeyMetadata.KeyId, 'key-hzz63a1b2c3d4e5f6compat');
      assert.equal(b.KeyMetadata.Arn, `acs:kms:${REGION}:${UID}:key/key-hzz63a1b2c3d4e5f6compat`);
      assert.equal(b.KeyMetadata.Creator, UID);
      assert.equal(b.KeyMetadata.KeyState, 'Enabled');
      const s = await S.callRpc(api, 'Kms', 'DescribeKey', { KeyId: 'key-hzz6ecsservicekey00001' });
      assert.notEqual(s.KeyMetadata.Creator, UID);
      assert.doesNotMatch(s.KeyMetadata.Creator, S.UID_RE, 'a service key is not created by an account');
    });

    it('DescribeKey accepts an alias name and a key ARN', known(`${mode}:kms.DescribeKey.alias`), async () => {
      for (const keyId of ['alias/compat-share-cmk', `acs:kms:${REGION}:${UID}:key/key-hzz63a1b2c3d4e5f6compat`]) {
        const b = await S.callRpc(api, 'Kms', 'DescribeKey', { KeyId: keyId });
        assert.equal(b.KeyMetadata.KeyId, 'key-hzz63a1b2c3d4e5f6compat', keyId);
      }
      await S.expectSdkError(S.callRpc(api, 'Kms', 'DescribeKey', { KeyId: 'alias/not-there' }), { code: 'Forbidden.AliasNotFound', statusCode: 404 });
    });

    it('ListAliases lists every alias with its key', known(`${mode}:kms.ListAliases`), async () => {
      const b = await S.callRpc(api, 'Kms', 'ListAliases', { PageSize: 100 });
      assert.equal(b.TotalCount, 2);
      assert.deepEqual(
        b.Aliases.Alias.map((a) => [a.AliasName, a.KeyId, a.AliasArn]).sort(),
        [
          ['alias/acs/ecs', 'key-hzz6ecsservicekey00001', `acs:kms:${REGION}:${UID}:alias/acs/ecs`],
          ['alias/compat-share-cmk', 'key-hzz63a1b2c3d4e5f6compat', `acs:kms:${REGION}:${UID}:alias/compat-share-cmk`],
        ],
      );
    });

    it('ListKeys Filters: keys ANDed, values ORed (KeyState, CreatorType)', known(`${mode}:kms.ListKeys.and`), async () => {
      const list = async (filters) => (await S.callRpc(api, 'Kms', 'ListKeys', { Filters: JSON.stringify(filters), PageSize: 100 })).Keys.Key.map((k) => k.KeyId).sort();
      assert.deepEqual(await list([{ Key: 'KeyState', Values: ['Disabled'] }]), ['key-hzz6disabledcmk000001']);
      assert.deepEqual(await list([{ Key: 'KeyState', Values: ['Enabled', 'Disabled'] }]), [
        'key-hzz63a1b2c3d4e5f6compat',
        'key-hzz6disabledcmk000001',
        'key-hzz6ecsservicekey00001',
      ]);
      assert.deepEqual(
        await list([
          { Key: 'KeyState', Values: ['Enabled'] },
          { Key: 'CreatorType', Values: ['User'] },
        ]),
        ['key-hzz63a1b2c3d4e5f6compat'],
      );
    });

    it('ListKeys Filters CreatorType=Service / User', known(`${mode}:kms.ListKeys.filters`), async () => {
      const f = (v) => JSON.stringify([{ Key: 'CreatorType', Values: [v] }]);
      const svc = await S.callRpc(api, 'Kms', 'ListKeys', { Filters: f('Service'), PageSize: 100 });
      assert.deepEqual(svc.Keys.Key.map((k) => k.KeyId), ['key-hzz6ecsservicekey00001']);
      const usr = await S.callRpc(api, 'Kms', 'ListKeys', { Filters: f('User'), PageSize: 100 });
      assert.deepEqual(usr.Keys.Key.map((k) => k.KeyId).sort(), ['key-hzz63a1b2c3d4e5f6compat', 'key-hzz6disabledcmk000001']);
      assert.equal(usr.TotalCount, 2);
    });
  });

  describe(`Resource Sharing via openapi-core callApi (${mode})`, () => {
    let api;
    let shareId;
    before(() => {
      api = S.clients.openapi(emu, mode);
    });
    const associations = async (type) =>
      (await S.callRpc(api, 'ResourceSharing', 'ListResourceShareAssociations', { AssociationType: type, ResourceShareIds: [shareId] }))
        .ResourceShareAssociations;

    it('CreateResourceShare with a snapshot and an RD member account', known(`${mode}:rs.CreateResourceShare`), async () => {
      const b = await S.callRpc(api, 'ResourceSharing', 'CreateResourceShare', {
        ResourceShareName: `compat-${m}-share`,
        Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1aaaa' }],
        Targets: ['1111111111111111'],
      });
      const rs = b.ResourceShare;
      assert.match(rs.ResourceShareId, /^rs-/);
      assert.equal(rs.ResourceShareName, `compat-${m}-share`);
      assert.equal(rs.ResourceShareStatus, 'Active');
      assert.equal(typeof rs.AllowExternalTargets, 'boolean');
      assert.ok(rs.CreateTime);
      shareId = rs.ResourceShareId;
    });

    it('AssociateResourceShare is asynchronous: Associating, then Associated', known(`${mode}:rs.AssociateResourceShare`), async () => {
      assert.ok(shareId, 'share created');
      const b = await S.callRpc(api, 'ResourceSharing', 'AssociateResourceShare', { ResourceShareId: shareId, Targets: ['2222222222222222'] });
      assert.ok(Array.isArray(b.ResourceShareAssociations), 'bare array');
      const a = b.ResourceShareAssociations.find((x) => x.EntityId === '2222222222222222');
      assert.ok(a, 'association for the new target');
      assert.equal(a.AssociationType, 'Target');
      assert.equal(a.ResourceShareId, shareId);
      assert.ok(['Associating', 'Associated'].includes(a.AssociationStatus), a.AssociationStatus);
      const targets = await S.pollUntil(
        async () => {
          const l = await associations('Target');
          return { done: l.length === 2 && l.every((x) => x.AssociationStatus === 'Associated'), value: l };
        },
        { what: 'targets Associated' },
      );
      assert.deepEqual(targets.map((x) => x.EntityId).sort(), ['1111111111111111', '2222222222222222']);
      const resources = await S.pollUntil(
        async () => {
          const l = await associations('Resource');
          return { done: l.length === 1 && l[0].AssociationStatus === 'Associated', value: l };
        },
        { what: 'resource Associated' },
      );
      assert.equal(resources[0].EntityId, 's-bp1aaaa');
      assert.equal(resources[0].EntityType, 'Snapshot');
    });

    it('at most 5 targets per call (InvalidParameter.Targets.Length); unknown share EntityNotExists.ResourceShare', known(`${mode}:rs.limits`), async () => {
      const six = ['3333333333333333', ...Array.from({ length: 5 }, (_, i) => `10000000000000${String(i + 1).padStart(2, '0')}`)];
      await S.expectSdkError(S.callRpc(api, 'ResourceSharing', 'AssociateResourceShare', { ResourceShareId: shareId, Targets: six }), {
        code: 'InvalidParameter.Targets.Length',
        statusCode: 400,
      });
      await S.expectSdkError(
        S.callRpc(api, 'ResourceSharing', 'AssociateResourceShare', { ResourceShareId: 'rs-doesnotexist01', Targets: ['3333333333333333'] }),
        { code: 'EntityNotExists.ResourceShare', statusCode: 404 },
      );
    });

    it('DisassociateResourceShare moves the target to Disassociated', known(`${mode}:rs.DisassociateResourceShare`), async () => {
      const b = await S.callRpc(api, 'ResourceSharing', 'DisassociateResourceShare', { ResourceShareId: shareId, Targets: ['2222222222222222'] });
      const a = b.ResourceShareAssociations.find((x) => x.EntityId === '2222222222222222');
      assert.ok(['Disassociating', 'Disassociated'].includes(a.AssociationStatus), a.AssociationStatus);
      await S.pollUntil(
        async () => {
          const l = await associations('Target');
          const t = l.find((x) => x.EntityId === '2222222222222222');
          return { done: !t || t.AssociationStatus === 'Disassociated', value: l };
        },
        { what: 'target Disassociated' },
      );
    });

    it('ListResourceShares, ListSharedResources and ListSharedTargets (owner view)', known(`${mode}:rs.lists`), async () => {
      const shares = (await S.callRpc(api, 'ResourceSharing', 'ListResourceShares', { ResourceOwner: 'Self', ResourceShareIds: [shareId] })).ResourceShares;
      assert.equal(shares.length, 1);
      assert.equal(shares[0].ResourceShareName, `compat-${m}-share`);
      assert.equal(shares[0].ResourceShareStatus, 'Active');
      assert.equal(shares[0].ResourceShareOwner, UID, 'the owner account ID');
      const res = (await S.callRpc(api, 'ResourceSharing', 'ListSharedResources', { ResourceOwner: 'Self', ResourceShareIds: [shareId] })).SharedResources;
      assert.deepEqual(res.map((r) => [r.ResourceId, r.ResourceType, r.ResourceShareId]), [['s-bp1aaaa', 'Snapshot', shareId]]);
      const tg = (await S.callRpc(api, 'ResourceSharing', 'ListSharedTargets', { ResourceOwner: 'Self', ResourceShareIds: [shareId] })).SharedTargets;
      assert.deepEqual(tg.map((x) => x.TargetId).sort(), ['1111111111111111']);
      assert.equal(tg[0].External, false);
    });

    it('more than 5 resources per call is InvalidParameter.Resources.Length; times carry milliseconds', known(`${mode}:rs.resources-limit`), async () => {
      const six = ['s-bp1aaaa', 's-bp1bbbb', 's-bp1cccc', 's-bp1dddd', 's-bp1eeee', 's-bp1ffff'].map((id) => ({ ResourceType: 'Snapshot', ResourceId: id }));
      await S.expectSdkError(S.callRpc(api, 'ResourceSharing', 'AssociateResourceShare', { ResourceShareId: shareId, Resources: six }), {
        code: 'InvalidParameter.Resources.Length',
        statusCode: 400,
      });
      const shares = (await S.callRpc(api, 'ResourceSharing', 'ListResourceShares', { ResourceOwner: 'Self', ResourceShareIds: [shareId] })).ResourceShares;
      assert.match(shares[0].CreateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'e.g. 2020-12-03T08:02:22.413Z');
    });

    it('the external account lists its invitation, accepts one and rejects another', known(`${mode}:rs.invitations`), async () => {
      const theirs = S.clients.openapi(emu, mode, S.EXTERNAL);
      const create = async (name) =>
        (
          await S.callRpc(api, 'ResourceSharing', 'CreateResourceShare', {
            ResourceShareName: name,
            Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1bbbb' }],
            Targets: ['9999999999999999'],
            AllowExternalTargets: true,
          })
        ).ResourceShare.ResourceShareId;
      const a = await create(`compat-${m}-invite-a`);
      const b = await create(`compat-${m}-invite-b`);
      const invitation = async (id) =>
        (await S.callRpc(theirs, 'ResourceSharing', 'ListResourceShareInvitations', { ResourceShareIds: [id] })).ResourceShareInvitations;
      const [ia] = await invitation(a);
      assert.ok(ia, 'invitation for share a');
      assert.equal(ia.Status, 'Pending');
      assert.equal(ia.SenderAccountId, UID);
      assert.equal(ia.ReceiverAccountId, '9999999999999999');
      assert.equal(ia.ResourceShareName, `compat-${m}-invite-a`);
      const acc = await S.callRpc(theirs, 'ResourceSharing', 'AcceptResourceShareInvitation', { ResourceShareInvitationId: ia.ResourceShareInvitationId });
      assert.equal(acc.ResourceShareInvitation.Status, 'Accepted');
      const [ib] = await invitation(b);
      const rej = await S.callRpc(theirs, 'ResourceSharing', 'RejectResourceShareInvitation', { ResourceShareInvitationId: ib.ResourceShareInvitationId });
      assert.equal(rej.ResourceShareInvitation.Status, 'Rejected');
      const seen = (await S.callRpc(theirs, 'ResourceSharing', 'ListSharedResources', { ResourceOwner: 'OtherAccounts' })).SharedResources;
      await S.pollUntil(
        async () => {
          const l = (await S.callRpc(theirs, 'ResourceSharing', 'ListSharedResources', { ResourceOwner: 'OtherAccounts' })).SharedResources;
          return { done: l.some((r) => r.ResourceShareId === a), value: l };
        },
        { what: 'accepted share visible to the consumer' },
      );
      assert.ok(!seen.some((r) => r.ResourceShareId === b), 'rejected share not visible');
    });

    it('a target outside the resource directory needs AllowExternalTargets (InvalidTarget)', known(`${mode}:rs.external.refused`), async () => {
      await S.expectSdkError(
        S.callRpc(api, 'ResourceSharing', 'CreateResourceShare', {
          ResourceShareName: `compat-${m}-external-refused`,
          Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1cccc' }],
          Targets: ['9999999999999999'],
        }),
        { code: 'InvalidTarget', statusCode: 400 },
      );
    });

    it('an external target is associated only once its invitation is accepted', known(`${mode}:rs.external.invitation`), async () => {
      const b = await S.callRpc(api, 'ResourceSharing', 'CreateResourceShare', {
        ResourceShareName: `compat-${m}-external`,
        Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1cccc' }],
        Targets: ['9999999999999999'],
        AllowExternalTargets: true,
      });
      assert.equal(b.ResourceShare.AllowExternalTargets, true);
      const id = b.ResourceShare.ResourceShareId;
      const target = async () =>
        (await S.callRpc(api, 'ResourceSharing', 'ListResourceShareAssociations', { AssociationType: 'Target', ResourceShareIds: [id] }))
          .ResourceShareAssociations.find((x) => x.EntityId === '9999999999999999');
      // Move the emulated clock past the association delay (well inside the signature window): an
      // unaccepted invitation must still not be Associated. Back to real time before accepting, so the
      // acceptance is not stamped in the future.
      await emu.admin('POST', 'clock', { offsetSeconds: 60 });
      let pending;
      try {
        pending = await target();
      } finally {
        await emu.admin('DELETE', 'clock');
      }
      assert.ok(pending, 'the external target is listed');
      assert.notEqual(pending.AssociationStatus, 'Associated', 'not usable before the invitation is accepted');
      assert.equal(pending.External, true);
      const acc = await emu.acceptInvitations('9999999999999999');
      assert.equal(acc.accepted, 1);
      await S.pollUntil(async () => {
        const t = await target();
        return { done: t.AssociationStatus === 'Associated', value: t };
      }, { what: 'external target Associated' });
    });
  });

  describe(`generic errors (${mode})`, () => {
    it('an unknown action is InvalidAction.NotFound (404)', known(`${mode}:errors.InvalidAction`), async () => {
      const api = S.clients.openapi(emu, mode);
      await S.expectSdkError(S.callRpc(api, 'Ecs', 'DescribeNothingAtAll', { RegionId: REGION }), {
        code: 'InvalidAction.NotFound',
        statusCode: 404,
      });
    });
  });
}

// The product's own use case, through the official SDK only: an encrypted snapshot shared to an RD
// folder is usable by a member account exactly when the share role trusts the folder and its policy
// allows the key (checked with GET /_emulator/access).
describe('end to end: encrypted snapshot shared to an RD folder (V3)', () => {
  const roleName = 'AliyunECSShareEncryptSnapshotDefaultRole';
  const policyName = 'compat-e2e-snapshot-share';
  const key = 'key-hzz63a1b2c3d4e5f6compat';
  let ram;
  let api;
  before(() => {
    ram = S.clients.ram(emu, 'V3');
    api = S.clients.openapi(emu, 'V3');
  });

  it('usable only with trust, KMS permission and an Associated share', known('e2e.rd-folder'), async () => {
    const usable = async (uid) => emu.access(uid, 's-bp1aaaa');
    assert.equal((await usable('1111111111111111')).usable, false, 'nothing shared yet');
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
    await ram.createRole(new RAM.CreateRoleRequest({ roleName, assumeRolePolicyDocument: JSON.stringify(trust) }));
    const policy = {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['kms:List*'], Resource: [`acs:kms:${REGION}:${UID}:key`] },
        {
          Effect: 'Allow',
          Action: ['kms:DescribeKey', 'kms:TagResource', 'kms:UntagResource', 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: [`acs:kms:${REGION}:${UID}:key/${key}`],
        },
      ],
    };
    await ram.createPolicy(new RAM.CreatePolicyRequest({ policyName, policyDocument: JSON.stringify(policy) }));
    await ram.attachPolicyToRole(new RAM.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName, roleName }));
    const b = await S.callRpc(api, 'ResourceSharing', 'CreateResourceShare', {
      ResourceShareName: 'compat-e2e',
      Resources: [{ ResourceType: 'Snapshot', ResourceId: 's-bp1aaaa' }],
      Targets: ['fd-compatprod'],
    });
    const id = b.ResourceShare.ResourceShareId;
    await S.pollUntil(async () => {
      const l = (await S.callRpc(api, 'ResourceSharing', 'ListResourceShareAssociations', { AssociationType: 'Target', ResourceShareIds: [id] }))
        .ResourceShareAssociations;
      return { done: l.length === 1 && l[0].AssociationStatus === 'Associated', value: l };
    }, { what: 'folder target Associated' });
    const inFolder = await usable('1111111111111111');
    assert.equal(inFolder.usable, true, JSON.stringify(inFolder));
    const outside = await usable('3333333333333333');
    assert.equal(outside.usable, false, 'an account outside the folder');
    assert.ok(outside.reasons.length > 0);
    // Without the KMS permission the share is visible but not usable.
    await ram.detachPolicyFromRole(new RAM.DetachPolicyFromRoleRequest({ policyType: 'Custom', policyName, roleName }));
    const noKms = await usable('1111111111111111');
    assert.equal(noKms.usable, false);
    assert.ok(noKms.reasons.some((r) => /kms/i.test(r)), JSON.stringify(noKms.reasons));
  });
});

describe('KMS via kms20160120@1.2.0 (rpc-client, V1 only)', () => {
  let kms;
  before(() => {
    kms = S.clients.kms(emu);
  });

  it('DescribeKey', known('kms20160120.DescribeKey'), async () => {
    const r = await kms.describeKey(new KMS.DescribeKeyRequest({ keyId: 'key-hzz63a1b2c3d4e5f6compat' }));
    assert.ok(r.requestId);
    assert.equal(r.keyMetadata.keyId, 'key-hzz63a1b2c3d4e5f6compat');
    assert.equal(r.keyMetadata.arn, `acs:kms:${REGION}:${UID}:key/key-hzz63a1b2c3d4e5f6compat`);
    assert.equal(r.keyMetadata.creator, UID);
    assert.equal(r.keyMetadata.keyState, 'Enabled');
    const d = await kms.describeKey(new KMS.DescribeKeyRequest({ keyId: 'key-hzz6disabledcmk000001' }));
    assert.equal(d.keyMetadata.keyState, 'Disabled');
  });

  it('DescribeKey of a missing key is Forbidden.KeyNotFound', known('kms20160120.DescribeKey.missing'), async () => {
    await S.expectRpcClientError(kms.describeKey(new KMS.DescribeKeyRequest({ keyId: 'key-doesnotexist00001' })), 'Forbidden.KeyNotFound');
  });

  it('ListKeys', known('kms20160120.ListKeys'), async () => {
    const r = await kms.listKeys(new KMS.ListKeysRequest({ pageSize: 100 }));
    assert.equal(r.totalCount, 3);
    assert.equal(r.pageNumber, 1);
    const keys = r.keys.key.map((k) => [k.keyId, k.keyArn]).sort();
    assert.deepEqual(
      keys,
      ['key-hzz63a1b2c3d4e5f6compat', 'key-hzz6disabledcmk000001', 'key-hzz6ecsservicekey00001'].map((id) => [id, `acs:kms:${REGION}:${UID}:key/${id}`]),
    );
    const p = await kms.listKeys(new KMS.ListKeysRequest({ pageSize: 2, pageNumber: 2 }));
    assert.equal(p.keys.key.length, 1);
    assert.equal(p.totalCount, 3);
  });

  it('ListAliasesByKeyId shows alias/acs/ecs for the service key', known('kms20160120.ListAliasesByKeyId'), async () => {
    const r = await kms.listAliasesByKeyId(new KMS.ListAliasesByKeyIdRequest({ keyId: 'key-hzz6ecsservicekey00001' }));
    assert.deepEqual(
      r.aliases.alias.map((a) => [a.aliasName, a.aliasArn, a.keyId]),
      [['alias/acs/ecs', `acs:kms:${REGION}:${UID}:alias/acs/ecs`, 'key-hzz6ecsservicekey00001']],
    );
    const c = await kms.listAliasesByKeyId(new KMS.ListAliasesByKeyIdRequest({ keyId: 'key-hzz63a1b2c3d4e5f6compat' }));
    assert.deepEqual(c.aliases.alias.map((a) => a.aliasName), ['alias/compat-share-cmk']);
  });
});
