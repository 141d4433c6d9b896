'use strict';
// Starts sharekeeper-emulator as a child process on port 0 exactly as docs/contract.md §3.5 says a user would
// (`--listen 127.0.0.1:0 --seed F --port-file F [--tls-self-signed --cert-out F]`), and talks to its
// unsigned admin API under /_emulator/.
//
// A test file either starts its own emulator (the binary comes from $SHAREKEEPER_EMULATOR) or, when the
// runner already started one (run.js --tls: NODE_EXTRA_CA_CERTS has to be set before node starts, so the
// runner owns the TLS emulator), attaches to $COMPAT_ENDPOINT and resets it to its seed first.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

const kStartTimeoutMs = 30000;
const kStopTimeoutMs = 10000;

function emulatorBinary() {
  const bin = process.env.SHAREKEEPER_EMULATOR;
  if (!bin) throw new Error('SHAREKEEPER_EMULATOR is not set (path of the sharekeeper-emulator binary)');
  if (!fs.existsSync(bin)) throw new Error(`SHAREKEEPER_EMULATOR=${bin} does not exist`);
  return bin;
}

// Plain HTTP(S) request helper; resolves {status, headers, text, json} and never throws on 4xx/5xx.
function rawRequest(baseUrl, { method = 'GET', path: p = '/', headers = {}, body, ca } = {}) {
  const u = new URL(p, baseUrl);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: u.pathname + u.search,
        headers,
        ca,
        agent: false,
        timeout: 15000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = text.length ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${u.href}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

class Emulator {
  constructor({ url, ca, certFile, child, dir, stdout, stderr }) {
    this.url = url; // http(s)://127.0.0.1:PORT
    const u = new URL(url);
    this.protocol = u.protocol.replace(':', ''); // 'http' | 'https'
    this.hostPort = u.host; // 127.0.0.1:PORT, what the SDKs take as `endpoint`
    this.ca = ca; // PEM of the self-signed certificate (TLS only)
    this.certFile = certFile; // where --cert-out wrote it
    this.child_ = child;
    this.dir_ = dir;
    this.stdout_ = stdout;
    this.stderr_ = stderr;
  }

  // Admin API: POST/GET/DELETE /_emulator/<name>; JSON in, JSON out. Throws on non-2xx.
  async admin(method, name, body) {
    const headers = {};
    let payload;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const r = await rawRequest(this.url, { method, path: `/_emulator/${name}`, headers, body: payload, ca: this.ca });
    if (r.status < 200 || r.status >= 300) {
      throw new Error(`admin ${method} /_emulator/${name} -> ${r.status}: ${r.text.slice(0, 500)}`);
    }
    return r.json;
  }

  state() {
    return this.admin('GET', 'state');
  }
  reset() {
    return this.admin('POST', 'reset');
  }
  setClock(iso) {
    return this.admin('POST', 'clock', { now: iso });
  }
  addFault(rule) {
    return this.admin('POST', 'faults', rule);
  }
  clearFaults() {
    return this.admin('DELETE', 'faults');
  }
  requests() {
    return this.admin('GET', 'requests');
  }
  acceptInvitations(account) {
    return this.admin('POST', account ? `accept-invitations?${new URLSearchParams({ account })}` : 'accept-invitations');
  }
  access(account, resource) {
    const q = new URLSearchParams({ account, resource });
    return this.admin('GET', `access?${q}`);
  }

  // Sends bytes exactly as given (method, path+query, every header incl. host, body).
  send({ method, url, headers, body }) {
    return rawRequest(this.url, { method, path: url, headers, body, ca: this.ca });
  }

  // SIGTERM, then wait; resolves {code, signal}. Only processes this object started are signalled.
  async stop() {
    if (!this.child_) return { code: null, signal: null, external: true };
    const child = this.child_;
    this.child_ = null;
    if (child.exitCode !== null || child.signalCode !== null) {
      return { code: child.exitCode, signal: child.signalCode };
    }
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), kStopTimeoutMs);
    });
    let result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (result === null) {
      child.kill('SIGKILL');
      result = { ...(await exited), timedOut: true };
    }
    if (this.dir_) fs.rmSync(this.dir_, { recursive: true, force: true });
    return result;
  }

  logs() {
    return { stdout: this.stdout_ ? this.stdout_.join('') : '', stderr: this.stderr_ ? this.stderr_.join('') : '' };
  }
}

// Starts the binary with `seed` (an object). Resolves once it printed `listening on ...`.
async function startEmulator({ seed, tls = false, extraArgs = [] } = {}) {
  const bin = emulatorBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sk-compat-'));
  const seedFile = path.join(dir, 'seed.json');
  const portFile = path.join(dir, 'port');
  const certFile = path.join(dir, 'cert.pem');
  fs.writeFileSync(seedFile, JSON.stringify(seed ?? {}, null, 2));
  const args = ['--listen', '127.0.0.1:0', '--seed', seedFile, '--port-file', portFile];
  if (tls) args.push('--tls-self-signed', '--cert-out', certFile);
  args.push(...extraArgs);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = [];
  const stderr = [];
  child.stderr.on('data', (d) => stderr.push(d.toString()));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emulator did not print "listening on" within ${kStartTimeoutMs} ms; stderr: ${stderr.join('')}`));
    }, kStartTimeoutMs);
    child.stdout.on('data', (d) => {
      stdout.push(d.toString());
      const m = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(stdout.join(''));
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited early (code ${code}, signal ${signal}); args ${args.join(' ')}; stderr: ${stderr.join('')}`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  child.removeAllListeners('exit');
  const port = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : undefined;
  if (port !== new URL(url).port) {
    child.kill('SIGKILL');
    throw new Error(`--port-file holds ${JSON.stringify(port)} but stdout said ${url}`);
  }
  let ca;
  if (tls) {
    if (!url.startsWith('https://')) throw new Error(`--tls-self-signed but emulator printed ${url}`);
    ca = fs.readFileSync(certFile, 'utf8');
  }
  return new Emulator({ url, ca, certFile: tls ? certFile : undefined, child, dir, stdout, stderr });
}

// The emulator a test file should use: the runner's one ($COMPAT_ENDPOINT, reset to `seed`... the runner
// started it with the same seed file) or a fresh one.
async function emulatorForFile(seed) {
  const external = process.env.COMPAT_ENDPOINT;
  if (external) {
    const ca = process.env.COMPAT_CA_FILE ? fs.readFileSync(process.env.COMPAT_CA_FILE, 'utf8') : undefined;
    const emu = new Emulator({ url: external, ca });
    await emu.clearFaults();
    await emu.reset();
    return emu;
  }
  return startEmulator({ seed });
}

module.exports = { startEmulator, emulatorForFile, rawRequest, Emulator };
