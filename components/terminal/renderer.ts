// Which xterm.js renderer a terminal uses. The WebGL renderer (@xterm/addon-webgl) draws the grid on the
// GPU; it is used when the browser has a hardware WebGL2. A software GL (Chromium's SwiftShader — what a
// headless or GPU-less Chromium gives, without reporting a performance caveat — Mesa's llvmpipe) draws on
// the CPU: there the DOM renderer is used (bench/README.md, P3/P4). Otherwise, or when the GL context is
// lost later, xterm's DOM renderer.
// `localStorage['pvmlab.terminal.renderer']` = 'webgl' | 'dom' overrides the choice (benches measure both;
// a user whose GPU draws badly can opt out). The choice is on the element: `data-renderer`.
import type { Terminal } from '@xterm/xterm';

export type RendererKind = 'webgl' | 'dom';
export const RENDERER_KEY = 'pvmlab.terminal.renderer';

const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software/i;

/** 'webgl' if a hardware WebGL2 context can be had, else 'dom' (see the top of this file). */
export function preferredRenderer(): RendererKind {
  try {
    const forced = localStorage.getItem(RENDERER_KEY);
    if (forced === 'webgl' || forced === 'dom') return forced;
  } catch { /* storage blocked */ }
  try {
    const gl = document.createElement('canvas').getContext('webgl2', { failIfMajorPerformanceCaveat: true });
    if (!gl) return 'dom';
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext(); // the probe's context: give it back at once
    return SOFTWARE_GL.test(name) ? 'dom' : 'webgl';
  } catch {
    return 'dom';
  }
}

/**
 * Put the preferred renderer on an opened terminal; `el` gets `data-renderer`. Never throws: any failure
 * to start WebGL leaves xterm's DOM renderer in place. `dispose` stops listening for context loss.
 */
export async function attachRenderer(term: Terminal, el: HTMLElement): Promise<{ kind: RendererKind; dispose: () => void }> {
  const mark = (k: RendererKind) => { el.dataset.renderer = k; };
  mark('dom');
  if (preferredRenderer() !== 'webgl') return { kind: 'dom', dispose: () => {} };
  try {
    const { WebglAddon } = await import('@xterm/addon-webgl');
    const addon = new WebglAddon();
    // The GPU process restarted or the context was taken away: back to the DOM renderer (xterm redraws).
    const sub = addon.onContextLoss(() => { sub.dispose(); addon.dispose(); mark('dom'); });
    term.loadAddon(addon);
    mark('webgl');
    return { kind: 'webgl', dispose: () => sub.dispose() };
  } catch {
    return { kind: 'dom', dispose: () => {} };
  }
}
