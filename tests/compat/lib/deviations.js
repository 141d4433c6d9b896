'use strict';
// Known deviations of sharekeeper-emulator from the real API (or gaps in it), found by this suite and
// listed in docs/compat.md "Known deviations". A test whose id matches an entry runs as node:test
// `todo`: its failure is shown but does not fail the suite, and a todo test that passes is shown as
// passing, so a stale entry is visible. Remove an entry when the emulator is fixed.
//
// Test ids: "<V3|V1>:<product>.<Action>[.<case>]" in sdk.test.js, "replay:<capture label>" and
// "tamper:<capture label>" in replay.test.js, "kms20160120.<Action>", "credentials.<type>".
const kDeviations = [
  // [id prefix, 'reason (docs/compat.md Dn)']; the first matching prefix wins.
  ['V3:sts.AssumeRoleWithOIDC.ok', 'D4: OIDCTokenInfo.ClientIds is a JSON array; the SDK model (and real API) has a comma-separated string, so the SDK throws'],
  ['V1:sts.AssumeRoleWithOIDC.ok', 'D4: OIDCTokenInfo.ClientIds is a JSON array; the SDK model (and real API) has a comma-separated string, so the SDK throws'],
  ['replay:sts.AssumeRoleWithOIDC default', 'D4: OIDCTokenInfo.ClientIds is a JSON array where the SDK model has a string'],
  ['replay:credentials oidc_role_arn', 'D4: OIDCTokenInfo.ClientIds is a JSON array where the SDK model has a string'],
];

function known(id) {
  const hit = kDeviations.find(([prefix]) => id.startsWith(prefix));
  return hit ? { todo: hit[1] } : {};
}

module.exports = { known, kDeviations };
