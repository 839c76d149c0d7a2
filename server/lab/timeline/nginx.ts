// Parsing the pxeboot stack's HTTP log (/pxe/log/http.log): nginx's `timeline` log_format (pxeboot_stack/
// nginx.conf), one JSON object per request, written when the response ends. Example from a real run (see
// nginx.test.ts):
//   {"msec":"1795972467.512","request_time":"0.004","remote":"192.168.100.2","method":"GET","uri":"/boot.ipxe",
//    "status":"200","bytes":"572","length":"572","completion":"OK","userAgent":"iPXE/1.21.1+git20220113.fbbdc3926-0ubuntu1"}
// Call-home requests are not in it (they go to /pxe/http-callhome.log); /health is not logged.
import { jsonLines, queryValue } from '../nginx-json.ts';

/** One HTTP request to the stack. Times: ms since the epoch (provisioner clock); `start` = end − request_time. */
export interface HttpFetch {
  start: number;
  end: number;
  ip: string;
  method: string;
  uri: string;
  status: number;
  /** body bytes sent */
  bytes: number;
  /** Content-Length announced (null when none) */
  length: number | null;
  /** the whole response was sent (nginx $request_completion) */
  complete: boolean;
  userAgent: string;
}

/** Parse http.log text into fetches, in log order (= by end time). Lines that are not such JSON are skipped. */
export function parseHttpLog(text: string): HttpFetch[] {
  const out: HttpFetch[] = [];
  for (const j of jsonLines(text)) {
    const end = Math.round(Number(j.msec) * 1000);
    const took = Math.round(Number(j.request_time) * 1000);
    if (!Number.isFinite(end) || !Number.isFinite(took) || typeof j.uri !== 'string') continue;
    const length = Number(j.length);
    out.push({
      start: end - took, end, ip: String(j.remote ?? ''), method: String(j.method ?? ''), uri: j.uri,
      status: Number(j.status) || 0, bytes: Number(j.bytes) || 0, length: j.length && Number.isFinite(length) ? length : null,
      complete: j.completion === 'OK', userAgent: String(j.userAgent ?? ''),
    });
  }
  return out;
}

/** One call-home (/pxe/http-callhome.log): when (ms since the epoch; `msec`, else the second-resolution `time`), from where, what it said. */
export interface CallHome { at: number; remote: string; host: string; mac: string; status: string }

/** Parse http-callhome.log (lines from before `msec` was logged fall back to their `time`). */
export function parseCallHomeLog(text: string): CallHome[] {
  const out: CallHome[] = [];
  for (const j of jsonLines(text)) {
    const at = j.msec ? Math.round(Number(j.msec) * 1000) : Date.parse(String(j.time ?? ''));
    if (!Number.isFinite(at)) continue;
    out.push({ at, remote: String(j.remote ?? ''), host: queryValue(j.host), mac: queryValue(j.mac).toLowerCase(), status: queryValue(j.status) });
  }
  return out;
}
