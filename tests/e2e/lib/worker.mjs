// End-to-end harness: builds the Worker once per test run, starts it under `wrangler dev --local`
// (workerd) on a free loopback port with its own persistence directory, and stops it by signalling
// its whole process group (wrangler starts workerd as a child).
//
// Isolation from concurrent edits: `wrangler dev` watches src/ (the [build] watch_dir) and the
// bundle, and reloads the runtime when either changes — under a test that would swap the code or
// drop in-flight requests. So by default each run snapshots build/ and console/ (the static
// assets) once and starts wrangler with a configuration derived from wrangler.toml: the same
// name, bindings, migrations, assets and compatibility date, `main` pointing at the snapshot, and
// no [build] section; .dev.vars is copied next to it.
// Set STOCKEDGE_E2E_LIVE=1 to run wrangler straight on the repository's wrangler.toml instead.
// Before wrangler starts, the D1 migrations (migrations/) are applied to the state dir once
// (unless the test asks for a Worker without them).
//
// Environment:
//   STOCKEDGE_SKIP_BUILD=1  skip scripts/build-worker.sh when build/worker/shim.mjs exists
//   STOCKEDGE_E2E_LIVE=1    use the repository's wrangler.toml and build/ directly (no snapshot)
//   STOCKEDGE_E2E_KEEP=1    keep temporary state directories and logs (kept anyway when a test
//                           file fails; the path is printed)
//   STOCKEDGE_E2E_VERBOSE=1 echo wrangler's output to stderr

import { after, before } from 'node:test';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { exchange } from './exchange.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ADMIN_TOKEN = 'dev-admin';
export const STOREFRONT_TOKEN = 'dev-storefront';
export const OPERATOR_TOKEN = 'dev-operator';

const WRANGLER = path.join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const SHIM = path.join(ROOT, 'build', 'worker', 'shim.mjs');
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;
const env = process.env;

// ---------------------------------------------------------------------------------------------
// The run directory: one per `node --test` run (shared by its test-file processes, which are all
// children of the runner), holding the build snapshot, the derived config and the state dirs.

function startTimeOf(pid) {
  try {
    // Field 22 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return null;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const RUN_PREFIX = 'stockedge-e2e-run-';
const runKey = (() => {
  const parentStart = startTimeOf(process.ppid);
  // Without /proc, every test file is its own run.
  return parentStart ? `${process.ppid}-${parentStart}` : `${process.pid}-${Date.now()}`;
})();
export const RUN_DIR = path.join(os.tmpdir(), RUN_PREFIX + runKey);

/** Removes run directories left by runs whose runner process is gone. */
function sweepOldRuns() {
  let names = [];
  try {
    names = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(RUN_PREFIX));
  } catch {
    return;
  }
  for (const n of names) {
    const [pid, start] = n.slice(RUN_PREFIX.length).split('-');
    const full = path.join(os.tmpdir(), n);
    if (full === RUN_DIR) continue;
    const gone = !alive(Number(pid)) || (startTimeOf(pid) !== null && startTimeOf(pid) !== start);
    if (gone) {
      try {
        const age = Date.now() - fs.statSync(full).mtimeMs;
        if (age > 60_000) fs.rmSync(full, { recursive: true, force: true });
      } catch {
        /* another process swept it */
      }
    }
  }
}

function tail(file, lines = 60) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch (e) {
    return `(no log: ${e.message})`;
  }
}

function stripAnsi(s) {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `cmd args` with output to `logFile`; rejects with the log's tail on failure. */
function runLogged(cmd, args, logFile, opts = {}) {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', fd, fd], env: { ...env, ...opts.env } });
    fs.closeSync(fd);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code}); log ${logFile}:\n${tail(logFile)}`));
    });
  });
}

/** Waits until `file` exists (another process of this run is producing it), or `failed` does. */
async function waitForFile(file, timeoutMs, failed) {
  const until = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (fs.existsSync(failed)) throw new Error(`the build failed in another test process:\n${fs.readFileSync(failed, 'utf8')}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${file}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// build()

let built = null;

/**
 * Builds the Worker once per run (scripts/build-worker.sh, skipped with STOCKEDGE_SKIP_BUILD=1
 * when a build is present) and, unless STOCKEDGE_E2E_LIVE=1, snapshots it with a derived config.
 * Resolves to `{ configPath }` (null config in live mode).
 */
export function build() {
  built ??= doBuild();
  return built;
}

async function doBuild() {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  sweepOldRuns();
  const done = path.join(RUN_DIR, 'build.done');
  const lock = path.join(RUN_DIR, 'build.lock');
  let owner = false;
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
    owner = true;
  } catch {
    const holder = Number(fs.readFileSync(lock, 'utf8')) || 0;
    if (!fs.existsSync(done) && holder && !alive(holder)) {
      // The process that started the build died: take over.
      fs.writeFileSync(lock, String(process.pid));
      owner = true;
    }
  }
  const failed = path.join(RUN_DIR, 'build.failed');
  if (fs.existsSync(failed)) throw new Error(`the build failed earlier in this run:\n${fs.readFileSync(failed, 'utf8')}`);
  if (owner && !fs.existsSync(done)) {
    try {
      const skip = env.STOCKEDGE_SKIP_BUILD === '1' && fs.existsSync(SHIM);
      if (!skip) {
        const log = path.join(RUN_DIR, 'build.log');
        const t0 = Date.now();
        await runLogged('bash', ['scripts/build-worker.sh'], log);
        if (env.STOCKEDGE_E2E_VERBOSE === '1') console.error(`# build took ${Date.now() - t0} ms`);
      }
      if (!fs.existsSync(SHIM)) throw new Error(`no ${SHIM} after the build`);
      if (env.STOCKEDGE_E2E_LIVE !== '1') snapshot();
    } catch (e) {
      // The other test files of this run fail fast instead of building again.
      fs.writeFileSync(failed, String(e?.message ?? e));
      throw e;
    }
    fs.writeFileSync(done, new Date().toISOString());
  } else {
    await waitForFile(done, 20 * 60_000, failed);
  }
  return { configPath: env.STOCKEDGE_E2E_LIVE === '1' ? null : path.join(RUN_DIR, 'config', 'wrangler.toml') };
}

/** Copies build/ and writes a wrangler config for it (see the header). */
function snapshot() {
  const dir = path.join(RUN_DIR, 'config');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(path.join(ROOT, 'build'), path.join(dir, 'build'), { recursive: true });
  // The console's static assets (wrangler.toml [assets] directory, relative to the config).
  const assets = path.join(ROOT, 'console');
  if (fs.existsSync(assets)) fs.cpSync(assets, path.join(dir, 'console'), { recursive: true });
  const toml = fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const out = [];
  let inBuild = false;
  for (const line of toml.split('\n')) {
    const header = line.match(/^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$/);
    if (header) inBuild = header[1] === 'build' || header[1].startsWith('build.');
    if (inBuild) continue;
    if (/^\s*main\s*=/.test(line)) {
      out.push(`main = ${JSON.stringify(path.join(dir, 'build', 'worker', 'shim.mjs'))}`);
      continue;
    }
    out.push(line);
  }
  fs.writeFileSync(path.join(dir, 'wrangler.toml'), out.join('\n'));
  const vars = path.join(ROOT, '.dev.vars');
  if (fs.existsSync(vars)) fs.copyFileSync(vars, path.join(dir, '.dev.vars'));
}

// ---------------------------------------------------------------------------------------------
// D1 migrations (the catalogue database, wrangler.toml [[d1_databases]])

const D1_DATABASE = 'stockedge-catalog';
const MIGRATIONS_MARKER = '.d1-migrations-applied';

/** A digest of the .sql files in `dir` (names and contents), or null when there are none. */
function migrationsDigest(dir) {
  let names = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.sql')).sort();
  } catch {
    return null;
  }
  if (!names.length) return null;
  const h = crypto.createHash('sha256');
  for (const n of names) h.update(n).update('\0').update(fs.readFileSync(path.join(dir, n))).update('\0');
  return h.digest('hex');
}

/**
 * The migrations directory the config at `configPath` resolves `migrations_dir` against. The
 * snapshot config gets its own copy (taken once per run, like the build), so that concurrent
 * edits of migrations/ do not reach a run in progress.
 */
function migrationsDirFor(configPath) {
  const src = path.join(ROOT, 'migrations');
  if (!configPath) return src;
  const dst = path.join(path.dirname(configPath), 'migrations');
  if (!fs.existsSync(dst) && fs.existsSync(src)) {
    const tmp = `${dst}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(src, tmp, { recursive: true });
    try {
      fs.renameSync(tmp, dst);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another test file of this run won
    }
  }
  return dst;
}

/** Runs `wrangler d1 migrations apply --local` on the persistence directory `persistTo`. */
async function runMigrations(persistTo, configPath, log) {
  const args = [WRANGLER, 'd1', 'migrations', 'apply', D1_DATABASE, '--local', '--persist-to', persistTo];
  if (configPath) args.push('--config', configPath);
  await runLogged(process.execPath, args, log, {
    env: { CI: '1', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
}

/**
 * A persistence directory holding only the migrated D1 database, made once per run and
 * migrations digest (by whichever test file gets there first), to copy into fresh state dirs.
 */
async function migratedTemplate(digest, configPath) {
  const tpl = path.join(RUN_DIR, `d1-template-${digest.slice(0, 16)}`);
  if (fs.existsSync(path.join(tpl, '.done'))) return tpl;
  const tmp = `${tpl}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await runMigrations(tmp, configPath, path.join(tmp, 'd1-migrations.log'));
  fs.writeFileSync(path.join(tmp, '.done'), digest);
  try {
    fs.renameSync(tmp, tpl);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another test file of this run made it
  }
  return tpl;
}

/**
 * Applies the D1 migrations to the local state in `stateDir` before wrangler dev starts on it,
 * with the config wrangler dev will use. Idempotent and quick: a marker records the digest of
 * what was applied (a restart on the same state dir does nothing), and a fresh state dir gets a
 * copy of a database migrated once per run; a state dir with a database of its own gets
 * `wrangler d1 migrations apply --local`, which applies only what it lacks.
 */
async function applyMigrations(stateDir, configPath) {
  const dir = migrationsDirFor(configPath);
  const digest = migrationsDigest(dir);
  if (!digest) return;
  const marker = path.join(stateDir, MIGRATIONS_MARKER);
  try {
    if (fs.readFileSync(marker, 'utf8') === digest) return;
  } catch {
    /* not applied yet */
  }
  const t0 = Date.now();
  const d1 = path.join(stateDir, 'v3', 'd1');
  if (!fs.existsSync(d1)) {
    const tpl = await migratedTemplate(digest, configPath);
    fs.cpSync(path.join(tpl, 'v3', 'd1'), d1, { recursive: true });
  } else {
    await runMigrations(stateDir, configPath, path.join(stateDir, 'd1-migrations.log'));
  }
  fs.writeFileSync(marker, digest);
  if (env.STOCKEDGE_E2E_VERBOSE === '1') console.error(`# D1 migrations applied to ${stateDir} in ${Date.now() - t0} ms`);
}

/**
 * Runs `sql` with `wrangler d1 execute --local` on the catalogue database in the persistence
 * directory `stateDir` (a running runtime's too: SQLite's locking keeps the two apart). For tests
 * that must reach behind the API — to read what it does not show, or to make the database refuse
 * a write. Resolves to the rows of each statement (`[[row, …], …]`).
 */
export async function d1Execute(stateDir, sql) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await d1ExecuteOnce(stateDir, sql);
    } catch (e) {
      // The runtime holds the same SQLite file: a write that meets its open transaction is
      // refused with SQLITE_BUSY before anything is written, so it is simply tried again.
      if (attempt >= D1_BUSY_TRIES || !/SQLITE_BUSY|database is locked/.test(String(e?.message))) throw e;
      await sleep(200 * attempt);
    }
  }
}

/** How often `d1Execute` tries a statement the runtime's own transaction kept busy. */
const D1_BUSY_TRIES = 5;

async function d1ExecuteOnce(stateDir, sql) {
  const { configPath } = await build();
  const args = [WRANGLER, 'd1', 'execute', D1_DATABASE, '--local', '--persist-to', stateDir, '--json', '--command', sql];
  if (configPath) args.push('--config', configPath);
  const out = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: configPath ? path.dirname(configPath) : ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, CI: '1', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`wrangler d1 execute failed (${code}): ${stderr}${stdout}`))));
  });
  return JSON.parse(out).map((r) => r.results ?? []);
}

// ---------------------------------------------------------------------------------------------
// start()

let variantCounter = 0;

/**
 * A copy of the config at `configPath` (next to it, so relative paths and .dev.vars still
 * resolve) with the `limit` of each named `[[ratelimits]]` binding replaced.
 */
function withRateLimits(configPath, limits) {
  if (!configPath) throw new Error('ratelimits needs the snapshot config (not STOCKEDGE_E2E_LIVE=1)');
  const blocks = fs.readFileSync(configPath, 'utf8').split('[[ratelimits]]');
  const seen = new Set();
  const out = blocks.map((block, i) => {
    if (i === 0) return block;
    const name = block.match(/^\s*name\s*=\s*"([^"]+)"/m)?.[1];
    if (!(name in limits)) return block;
    seen.add(name);
    return block.replace(/limit\s*=\s*\d+/, `limit = ${Number(limits[name])}`);
  });
  for (const name of Object.keys(limits)) if (!seen.has(name)) throw new Error(`no [[ratelimits]] binding ${name}`);
  const variant = path.join(path.dirname(configPath), `wrangler-${process.pid}-${++variantCounter}.toml`);
  fs.writeFileSync(variant, out.join('[[ratelimits]]'));
  return variant;
}

/** A free loopback TCP port (listen on 0, close, reuse). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const groups = new Set(); // process-group ids of runtimes still running
const ownedDirs = new Set(); // temp state dirs this process created

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function cleanupSync(code) {
  for (const g of groups) killGroup(g, 'SIGKILL');
  groups.clear();
  const failedRun = typeof code === 'number' && code !== 0;
  if (failedRun && ownedDirs.size) {
    // Keep wrangler's logs and the state of a failing run for a look.
    process.stderr.write(`# e2e state and wrangler logs kept in: ${[...ownedDirs].join(' ')}\n`);
  } else if (env.STOCKEDGE_E2E_KEEP !== '1') {
    for (const d of ownedDirs) {
      try {
        fs.rmSync(d, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  }
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      cleanupSync(1);
      process.kill(process.pid, sig);
    });
  }
}

let stateCounter = 0;

/**
 * Starts the Worker under `wrangler dev --local`. `stateDir` (optional) is the persistence
 * directory; a fresh one is made when omitted. `migrations: false` leaves the D1 migrations
 * unapplied (a Worker deployed before its schema). `vars` (optional) sets `[vars]` values for this
 * runtime only (`wrangler dev --var NAME:VALUE`). `ratelimits` (optional) sets the `limit` of
 * `[[ratelimits]]` bindings by name for this runtime only (`{ RATE_LIMIT_TOKEN: 5 }`; the
 * defaults in wrangler.toml are too generous for a test to reach). `secrets` (optional) adds to or
 * overrides .dev.vars for this runtime only, loaded as secrets (never printed by wrangler, unlike
 * `vars`). Resolves to
 * `{ url, port, inspectorPort, stateDir, logFile, pid, stop(), kill(), restart() }` once GET /healthz
 * answers 200.
 */
export async function start({ stateDir, migrations = true, vars = {}, ratelimits = {}, secrets = {} } = {}) {
  hookExit();
  let { configPath } = await build();
  if (Object.keys(ratelimits).length) configPath = withRateLimits(configPath, ratelimits);
  if (!stateDir) {
    stateDir = path.join(RUN_DIR, `state-${process.pid}-${++stateCounter}`);
    ownedDirs.add(stateDir);
  }
  fs.mkdirSync(stateDir, { recursive: true });
  if (migrations) await applyMigrations(stateDir, configPath);
  const port = await freePort();
  const inspectorPort = await freePort();
  const logFile = path.join(stateDir, `wrangler-${port}.log`);
  const args = [
    WRANGLER,
    'dev',
    '--local',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--inspector-port', String(inspectorPort),
    '--show-interactive-dev-session=false',
    '--persist-to', stateDir,
    // GET /__scheduled?cron=… runs the scheduled handler (the order-feed polls) on demand.
    '--test-scheduled',
  ];
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
  if (Object.keys(secrets).length) {
    // Later env files override earlier ones; .dev.vars first, so every other secret stays.
    const extra = path.join(stateDir, `secrets-${port}.env`);
    fs.writeFileSync(extra, Object.entries(secrets).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`).join('\n') + '\n');
    const devVars = path.join(configPath ? path.dirname(configPath) : ROOT, '.dev.vars');
    args.push('--env-file', devVars, '--env-file', extra);
  }
  if (configPath) args.push('--config', configPath);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: configPath ? path.dirname(configPath) : ROOT,
    detached: true, // own process group: workerd joins it and one signal reaches both
    stdio: ['ignore', fd, fd],
    env: {
      ...env,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      STOCKEDGE_SKIP_BUILD: '1', // the [build] command (live mode) must not rebuild under us
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      CI: '1',
    },
  });
  fs.closeSync(fd);
  const pgid = child.pid;
  groups.add(pgid);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  child.on('error', (e) => {
    exited = { error: e };
  });
  let echo = null;
  if (env.STOCKEDGE_E2E_VERBOSE === '1') {
    let pos = 0;
    echo = setInterval(() => {
      try {
        const buf = fs.readFileSync(logFile);
        if (buf.length > pos) process.stderr.write(buf.subarray(pos));
        pos = buf.length;
      } catch {
        /* not yet */
      }
    }, 500);
    echo.unref();
  }

  const url = `http://127.0.0.1:${port}`;

  async function waitGroupGone(timeoutMs) {
    const until = Date.now() + timeoutMs;
    while (groupAlive(pgid)) {
      if (Date.now() > until) return false;
      await sleep(50);
    }
    return true;
  }

  async function finish() {
    if (echo) clearInterval(echo);
    groups.delete(pgid);
    // Let workerd release its files and the port.
    await sleep(100);
  }

  const handle = {
    url,
    port,
    /** The DevTools protocol endpoint of the runtime (wrangler's inspector proxy; bench/profile.mjs). */
    inspectorPort,
    stateDir,
    logFile,
    pid: pgid,
    /** SIGTERM to the group, SIGKILL after a timeout. */
    async stop() {
      if (!groups.has(pgid)) return;
      killGroup(pgid, 'SIGTERM');
      await Promise.race([exitPromise, sleep(STOP_TIMEOUT_MS)]);
      if (!(await waitGroupGone(STOP_TIMEOUT_MS))) {
        killGroup(pgid, 'SIGKILL');
        await waitGroupGone(STOP_TIMEOUT_MS);
      }
      await finish();
    },
    /**
     * Ends a runtime whose state is thrown away (a test file's `after`): SIGKILL, as [`kill`]. A
     * clean shutdown takes wrangler about 2 s and keeps nothing a finished test reads (its log is
     * already written; SQLite keeps what was committed either way).
     */
    async discard() {
      await handle.kill();
    },
    /** SIGKILL to the whole group: a crash, no clean shutdown. */
    async kill() {
      if (!groups.has(pgid)) return;
      killGroup(pgid, 'SIGKILL');
      await waitGroupGone(STOP_TIMEOUT_MS);
      await finish();
    },
    /**
     * Crash and come back: SIGKILL to the whole group (or, with `{ clean: true }`, stop()), then a
     * new runtime on the same persistence directory with the same options. Resolves to the new
     * handle (a new port: callers take its `url`); this handle is spent.
     */
    async restart({ clean = false } = {}) {
      await (clean ? handle.stop() : handle.kill());
      return start({ stateDir, migrations, vars, ratelimits, secrets });
    },
    /** The last lines wrangler/workerd wrote. */
    logTail(lines = 60) {
      return tail(logFile, lines);
    },
  };

  const t0 = Date.now();
  let errorSeenAt = 0;
  while (true) {
    // wrangler dev does not exit on a fatal configuration or bundle error; it waits for a file
    // change. Give up a few seconds after one shows in its log.
    if (!errorSeenAt && /\[ERROR\]/.test(stripAnsi(tail(logFile, 400)))) errorSeenAt = Date.now();
    if (errorSeenAt && Date.now() - errorSeenAt > 3_000) {
      await handle.kill();
      throw new Error(`wrangler reported an error and is not serving; log ${logFile}:\n${stripAnsi(tail(logFile))}`);
    }
    if (exited) {
      await handle.kill();
      throw new Error(`wrangler exited before it was ready (${JSON.stringify(exited)}); log ${logFile}:\n${stripAnsi(tail(logFile))}`);
    }
    if (Date.now() - t0 > START_TIMEOUT_MS) {
      await handle.kill();
      throw new Error(`no answer from ${url}/healthz within ${START_TIMEOUT_MS} ms; log ${logFile}:\n${stripAnsi(tail(logFile))}`);
    }
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  if (env.STOCKEDGE_E2E_VERBOSE === '1') console.error(`# runtime ${url} ready in ${Date.now() - t0} ms (state ${stateDir})`);
  return handle;
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * One request. `body`: an object (sent as JSON), a string or Buffer (sent as is), or undefined.
 * Resolves to `{ status, headers, body, text, ms, proxyRestart }`; `body` is parsed JSON when the
 * response is JSON (application/json or application/problem+json), else the text; `proxyRestart`
 * marks wrangler's own 503 "Your worker restarted mid-request".
 */
export async function request(url, method, p, { token, body, headers = {}, signal } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
    else payload = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  const t0 = performance.now();
  const { res, text } = await exchange(url + p, { method, headers: h, body: payload }, signal);
  const ms = performance.now() - t0;
  const ct = res.headers.get('content-type') ?? '';
  let parsed = text;
  if (/json/.test(ct) && text.length) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  // wrangler's dev proxy answers this itself when it lost the runtime under a request: not an
  // answer of the Worker.
  const proxyRestart = res.status === 503 && text.startsWith('Your worker restarted mid-request');
  return { status: res.status, headers: res.headers, body: parsed, text, ms, proxyRestart };
}

/**
 * Request helpers bound to a base URL:
 *   admin(method, path, body?, headers?)       with the admin token
 *   storefront(method, path, body?, headers?)  with the storefront token
 *   anon(method, path, body?, headers?)        with no token
 *   raw(method, path, opts)                    see request()
 */
export function api(url) {
  const as = (token) => (method, p, body, headers) => request(url, method, p, { token, body, headers });
  return {
    url,
    admin: as(ADMIN_TOKEN),
    storefront: as(STOREFRONT_TOKEN),
    anon: as(undefined),
    raw: (method, p, opts) => request(url, method, p, opts),
  };
}

/**
 * One runtime for the calling file or suite: started in `before`, stopped in `after`. Returns a
 * client like `api()`'s whose calls go to that runtime once it is up (and `url`, `runtime`).
 */
export function useRuntime(opts) {
  let rt;
  let client;
  before(async () => {
    rt = await start(opts);
    client = api(rt.url);
  });
  after(async () => {
    await rt?.discard();
  });
  const late = (k) => (...args) => client[k](...args);
  return {
    get url() {
      return rt.url;
    },
    get runtime() {
      return rt;
    },
    admin: late('admin'),
    storefront: late('storefront'),
    anon: late('anon'),
    raw: late('raw'),
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers for the tests

export { sleep };

/** Runs `tasks` (functions returning promises) with at most `concurrency` in flight. */
export async function pool(tasks, concurrency) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return results;
}

/** Percentile (nearest rank) of a list of numbers. */
export function percentile(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}

export function latencyLine(label, ms) {
  const f = (x) => x.toFixed(1);
  return `${label} latency p50=${f(percentile(ms, 50))}ms p99=${f(percentile(ms, 99))}ms max=${f(Math.max(...ms))}ms (n=${ms.length})`;
}

/** A unique name for this process and call, usable as a SKU or id (letters, digits, - and _). */
let uniq = 0;
export function unique(prefix) {
  return `${prefix}-${process.pid.toString(36)}${Date.now().toString(36)}-${++uniq}`;
}

/**
 * The samples of a Prometheus text exposition (`GET /v1/metrics`): `{ 'name{labels}': value }`,
 * comments and blank lines skipped.
 */
export function parseMetrics(text) {
  const out = {};
  for (const line of String(text).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function until(fn, { timeoutMs = 10_000, everyMs = 200 } = {}) {
  const t0 = Date.now();
  let v;
  while (true) {
    v = await fn();
    if (v || Date.now() - t0 > timeoutMs) return v;
    await sleep(everyMs);
  }
}
