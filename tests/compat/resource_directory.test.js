'use strict';
// What `sharekeeper explain` / `/status` read to place an account in its resource directory (issue 16),
// through the official SDK against sharekeeper-emulator, V3 and V1: ResourceManager 2020-03-31
// GetResourceDirectory (management account and member; ResourceDirectoryNotInUse outside), ListAccounts
// over pages with each member's ResourceDirectoryPath, GetAccount, the management-only refusals, and
// ECS DescribeRegions (what `sharekeeper import` enumerates). ResourceManager goes through openapi-core's
// generic callApi, the way its generated SDK (@alicloud/resourcemanager20200331, not in package.json) calls
// it: RPC style, parameters in the query. Run by run.js over HTTP and, with --tls, over HTTPS.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');

const seed = require('./seed.json');
const { emulatorForFile } = require('./lib/emulator');
const S = require('./lib/sdk');
const { known } = require('./lib/deviations');

const RD = seed.resourceDirectory;
const MEMBERS = Object.keys(RD.accounts).sort();

let emu;
before(async () => {
  emu = await emulatorForFile(seed);
});
after(async () => {
  if (emu) await emu.stop();
});

for (const mode of S.MODES) {
  describe(`ResourceManager: Resource Directory membership (${mode})`, () => {
    const rm = (creds) => S.clients.openapi(emu, mode, creds);

    it('GetResourceDirectory answers the management account and a member', known(`${mode}:resourcemanager.GetResourceDirectory`), async () => {
      for (const creds of [S.ROOT, S.RECIPIENT]) {
        const body = await S.callRpc(rm(creds), 'ResourceManager', 'GetResourceDirectory', {});
        assert.equal(typeof body.RequestId, 'string');
        assert.equal(body.ResourceDirectory.ResourceDirectoryId, RD.id);
        assert.equal(body.ResourceDirectory.RootFolderId, RD.rootFolderId);
        // The first seeded member is the management account when the seed names none.
        assert.equal(body.ResourceDirectory.MasterAccountId, S.UID);
      }
    });

    it('GetResourceDirectory outside any directory is ResourceDirectoryNotInUse (404)', known(`${mode}:resourcemanager.GetResourceDirectory.none`), async () => {
      await S.expectSdkError(S.callRpc(rm(S.EXTERNAL), 'ResourceManager', 'GetResourceDirectory', {}), {
        code: 'ResourceDirectoryNotInUse',
        statusCode: 404,
      });
    });

    it('ListAccounts lists every member over pages, each with its path', known(`${mode}:resourcemanager.ListAccounts`), async () => {
      const seen = [];
      let total;
      for (let page = 1; page < 100; page++) {
        const body = await S.callRpc(rm(S.ROOT), 'ResourceManager', 'ListAccounts', { PageNumber: String(page), PageSize: '7' });
        assert.equal(body.PageNumber, page);
        assert.equal(body.PageSize, 7);
        total = body.TotalCount;
        assert.equal(typeof total, 'number');
        const list = body.Accounts.Account;
        assert.ok(Array.isArray(list));
        if (list.length === 0) break;
        for (const a of list) {
          assert.equal(a.ResourceDirectoryId, RD.id);
          assert.equal(a.FolderId, RD.accounts[a.AccountId]);
          assert.ok(a.ResourceDirectoryPath.startsWith(`${RD.id}/${RD.rootFolderId}`), a.ResourceDirectoryPath);
          assert.ok(a.ResourceDirectoryPath.endsWith(`/${a.FolderId}/${a.AccountId}`) || a.FolderId === RD.rootFolderId, a.ResourceDirectoryPath);
          seen.push(a.AccountId);
        }
        if (seen.length >= total) break;
      }
      assert.equal(total, MEMBERS.length);
      assert.deepEqual(seen, MEMBERS);
      const inFolder = '1111111111111111';
      const one = await S.callRpc(rm(S.ROOT), 'ResourceManager', 'GetAccount', { AccountId: inFolder });
      assert.equal(one.Account.ResourceDirectoryPath, `${RD.id}/${RD.rootFolderId}/fd-compatprod/${inFolder}`);
    });

    it('ListAccounts with a PageSize above 100 is InvalidParameter.PageSize', known(`${mode}:resourcemanager.ListAccounts.pageSize`), async () => {
      await S.expectSdkError(S.callRpc(rm(S.ROOT), 'ResourceManager', 'ListAccounts', { PageSize: '101' }), {
        code: 'InvalidParameter.PageSize',
        statusCode: 400,
      });
    });

    it('only the management account lists members: a member gets EntityNotExists.ResourceDirectory (404)', known(`${mode}:resourcemanager.ListAccounts.member`), async () => {
      await S.expectSdkError(S.callRpc(rm(S.RECIPIENT), 'ResourceManager', 'ListAccounts', {}), {
        code: 'EntityNotExists.ResourceDirectory',
        statusCode: 404,
      });
      await S.expectSdkError(S.callRpc(rm(S.RECIPIENT), 'ResourceManager', 'GetAccount', { AccountId: S.UID }), {
        code: 'EntityNotExists.ResourceDirectory',
        statusCode: 404,
      });
    });
  });

  describe(`ECS DescribeRegions (${mode})`, () => {
    it('answers the regions of the emulated cloud', known(`${mode}:ecs.DescribeRegions`), async () => {
      const ecs = S.clients.ecs(emu, mode, S.ROOT);
      const r = await ecs.describeRegions(new S.ECS.DescribeRegionsRequest({}));
      assert.equal(r.statusCode, 200);
      S.assertWireTypes(ecs, S.ECS.DescribeRegionsResponseBody);
      const ids = r.body.regions.region.map((x) => x.regionId);
      for (const id of ['cn-hangzhou', 'cn-shanghai']) assert.ok(ids.includes(id), ids.join(','));
    });
  });
}
