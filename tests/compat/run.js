#!/usr/bin/env node
'use strict';
// Entry point of the compat suite (ctest runs it; see CMakeLists.txt and docs/compat.md):
//   node run.js --emulator <path/to/sharekeeper-emulator> [--tls] <file.test.js>...
// Without --tls each test file starts its own emulator over HTTP. With --tls this runner starts one
// emulator with --tls-self-signed --cert-out, and runs the files against it with NODE_EXTRA_CA_CERTS set
// to that certificate: the credentials providers and the KMS rpc-client have no `ca` option, and Node
// reads NODE_EXTRA_CA_CERTS only at start-up.
const { spawn } = require('node:child_process');
const path = require('node:path');

const seed = require('./seed.json');

function parseArgs(argv) {
  const out = { tls: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--emulator') out.emulator = argv[++i];
    else if (a === '--tls') out.tls = true;
    else if (a === '--captures') out.captures = argv[++i];
    else out.files.push(path.resolve(__dirname, a));
  }
  if (!out.emulator || out.files.length === 0) {
    console.error('usage: node run.js --emulator <sharekeeper-emulator> [--tls] [--captures F] <file.test.js>...');
    process.exit(2);
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  process.env.SHAREKEEPER_EMULATOR = path.resolve(args.emulator);
  const env = { ...process.env };
  if (args.captures) env.COMPAT_CAPTURES = path.resolve(args.captures);
  let emu;
  if (args.tls) {
    const { startEmulator } = require('./lib/emulator');
    emu = await startEmulator({ seed, tls: true });
    env.COMPAT_ENDPOINT = emu.url;
    env.COMPAT_CA_FILE = emu.certFile;
    env.NODE_EXTRA_CA_CERTS = emu.certFile;
    console.log(`compat: TLS emulator at ${emu.url}`);
  }
  const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...args.files], {
    stdio: 'inherit',
    env,
  });
  const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
  let rc = code;
  if (emu) {
    const stopped = await emu.stop();
    if (stopped.code !== 0 || stopped.timedOut) {
      console.error(`compat: the TLS emulator did not stop cleanly on SIGTERM: ${JSON.stringify(stopped)}`);
      console.error(emu.logs().stderr.slice(-4000));
      rc = rc || 1;
    }
  }
  process.exit(rc);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
