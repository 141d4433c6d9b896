'use strict';
// Known deviations of sharekeeper-emulator from the real API (or gaps in it), found by this suite and
// listed in docs/compat.md "Known deviations". A test whose id matches an entry runs as node:test
// `todo`: its failure is shown but does not fail the suite, and a todo test that passes is shown as
// passing, so a stale entry is visible. Remove an entry when the emulator is fixed.
//
// Test ids: "<V3|V1>:<product>.<Action>[.<case>]" in sdk.test.js, "replay:<capture label>" and
// "tamper:<capture label>" in replay.test.js, "kms20160120.<Action>", "credentials.<type>".
const kDeviations = [
  // [id prefix, 'reason (docs/compat.md Dn)']; the first matching prefix wins. None open: D1-D4 were
  // fixed in the emulator (docs/compat.md "Fixed").
];

function known(id) {
  const hit = kDeviations.find(([prefix]) => id.startsWith(prefix));
  return hit ? { todo: hit[1] } : {};
}

module.exports = { known, kDeviations };
