'use strict';
// The official Node SDK's side of bench_getrole: SK_IN_FLIGHT (default 1) GetRole loops on one
// client, each awaiting its call before the next, against the emulator for SK_SECONDS seconds,
// printing one JSON line {requests, seconds, cpu_seconds}. Node's own CPU only (process.cpuUsage),
// the emulator runs in another process.
const path = require('node:path');

const NM = process.env.SK_NODE_MODULES;
const RAM = require(path.join(NM, '@alicloud', 'ram20150501'));
const { $OpenApiUtil } = require(path.join(NM, '@alicloud', 'openapi-core'));

async function main() {
  const client = new RAM.default(
    new $OpenApiUtil.Config({
      accessKeyId: process.env.SK_AK,
      accessKeySecret: process.env.SK_SK,
      endpoint: process.env.SK_ENDPOINT,
      protocol: 'http',
      regionId: 'cn-hangzhou',
      signatureAlgorithm: process.env.SK_MODE === 'V1' ? 'v2' : undefined,
    }),
  );
  const req = new RAM.GetRoleRequest({ roleName: process.env.SK_ROLE });
  for (let i = 0; i < 50; i++) await client.getRole(req);  // warm-up: JIT, connection
  const seconds = Number(process.env.SK_SECONDS || '5');
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  const loop = async () => {
    while (process.hrtime.bigint() < end) {
      await client.getRole(req);
      n++;
    }
  };
  const inFlight = Math.max(1, Number(process.env.SK_IN_FLIGHT || '1'));
  await Promise.all(Array.from({ length: inFlight }, loop));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ requests: n, seconds: wall, cpu_seconds: (cpu.user + cpu.system) / 1e6 }));
}

main().catch((e) => {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
});
