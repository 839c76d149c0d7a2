// Install reports (pure): the stack's nginx writes one JSON object per `GET /installed?…` to /pxe/installs.log
// (pxeboot_stack/nginx.conf, log_format `installed`); the host folds those of a reservation's current install id
// into its record in configs/pxe.json.
import crypto from 'node:crypto';
import type { Reservation } from './pxe.ts';
import { jsonLines, queryValue } from '../nginx-json.ts';

export interface InstallReport {
  time: string; mac: string; id: string; status: 'installed' | 'failed';
  sha256: string | null; reason: string | null; detail: string | null; bytes: number | null; ms: number | null; mode: string | null;
}

/** What a failure code from the live installer means, for people (the code is what travels in the URL). */
export const INSTALL_FAILURES: Record<string, string> = {
  'sha256-mismatch': "the image's sha256 is not the profile's: nothing was written to the disk (upload the right image, or fix the sha256 in the profile)",
  'download-failed': 'the image could not be downloaded from the provisioner: nothing was written (is the artifact still there?)',
  'too-big': 'the image is larger than the target\'s disk: nothing was written (give the VM a bigger disk)',
  'no-disk': 'the target has no writable disk to install onto',
  'write-failed': 'writing the disk failed part-way: the disk is partly written (re-provision to start over)',
  'changed-during-write': 'the image changed on the provisioner while it was written: the disk is partly written (re-provision to start over)',
  'bad-sha256': 'the profile\'s sha256 is not 64 hex digits',
};

const dec = (s: unknown): string | null => (typeof s === 'string' && s !== '' ? queryValue(s) : null);

/** Parse installs.log: one JSON object per line (nginx escape=json; query values still percent-encoded). Junk lines are skipped. */
export function parseInstallReports(text: string): InstallReport[] {
  const out: InstallReport[] = [];
  for (const o of jsonLines(text)) {
    const mac = dec(o.mac)?.toLowerCase() ?? '';
    const status = dec(o.status);
    const id = dec(o.id) ?? '';
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) || (status !== 'installed' && status !== 'failed') || !/^[a-z0-9]{8,32}$/.test(id)) continue;
    const num = (v: unknown) => { const n = Number(dec(v)); return dec(v) !== null && Number.isFinite(n) ? n : null; };
    out.push({ time: String(o.time ?? ''), mac, id, status, sha256: dec(o.sha256), reason: dec(o.reason), detail: dec(o.detail), bytes: num(o.bytes), ms: num(o.ms), mode: dec(o.mode) });
  }
  return out;
}

/** A fresh install id (armed when an install profile is set or its target re-provisioned). */
export function newInstallId(): string {
  return crypto.randomBytes(8).toString('hex');
}

/**
 * Fold reports into reservations (pure): for each reservation with an install, its last report with the current
 * install id wins. Returns the reservations whose install state changed (new objects), in input order.
 */
export function foldInstallReports(list: Reservation[], reports: InstallReport[], label: (r: Reservation) => string): Reservation[] {
  const changed: Reservation[] = [];
  for (const r of list) {
    if (!r.install) continue;
    const last = reports.filter((x) => x.mac === r.mac && x.id === r.install!.id).at(-1);
    if (!last) continue;
    const reason = last.status === 'failed' ? (INSTALL_FAILURES[last.reason ?? ''] ?? last.reason ?? 'the installer reported a failure') + (last.detail ? ` (${last.detail})` : '') : undefined;
    const next = { id: r.install.id, status: last.status, at: last.time, from: label(r), ...(last.sha256 ? { sha256: last.sha256 } : {}), ...(reason ? { reason: reason.slice(0, 500) } : {}) };
    if (JSON.stringify(next) !== JSON.stringify(r.install)) changed.push({ ...r, install: next });
  }
  return changed;
}
