// CPU time of processes, from /proc (Linux): what the benchmarks charge to each system they run.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Milliseconds per clock tick (`getconf CLK_TCK`). */
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

/** Every process now: `{ pid, comm, ppid, pgrp, cpu }`, `cpu` the user + system ms it has used. */
export function procs() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      // f[0] = state (field 3); ppid = field 4; pgrp = field 5; utime, stime = fields 14, 15
      out.push({ pid: Number(d), comm, ppid: Number(f[1]), pgrp: Number(f[2]), cpu: (Number(f[11]) + Number(f[12])) * TICK_MS });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU ms used so far by each named meter: `{ name: (proc) => bool }`. */
export function cpuNow(meters) {
  const all = procs();
  const out = {};
  for (const [name, pick] of Object.entries(meters)) out[name] = all.filter(pick).reduce((a, p) => a + p.cpu, 0);
  return out;
}
