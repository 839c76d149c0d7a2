// ttyd-equivalent client (bench only; see server.ts): ttyd's protocol, options and flow control, written
// plainly. Not ttyd's code: the same behaviour, minus what the bench does not exercise (zmodem, sixel,
// web links, overlays, reconnect-on-Enter).
(() => {
  'use strict';
  const OUTPUT = '0', SET_WINDOW_TITLE = '1', SET_PREFERENCES = '2';
  const INPUT = '0', RESIZE_TERMINAL = '1', PAUSE = '2', RESUME = '3';
  // ttyd's defaults (html/src/components/app.tsx): its font and theme, xterm's defaults for the rest.
  const termOptions = {
    fontSize: 13,
    fontFamily: 'Consolas,Liberation Mono,Menlo,Courier,monospace',
    theme: {
      foreground: '#d2d2d2', background: '#2b2b2b', cursor: '#adadad',
      black: '#000000', red: '#d81e00', green: '#5ea702', yellow: '#cfae00', blue: '#427ab3', magenta: '#89658e',
      cyan: '#00a7aa', white: '#dbded8', brightBlack: '#686a66', brightRed: '#f54235', brightGreen: '#99e343',
      brightYellow: '#fdeb61', brightBlue: '#84b0d8', brightMagenta: '#bc94b7', brightCyan: '#37e6e8', brightWhite: '#f1f1f0',
    },
    allowProposedApi: true,
  };
  const flowControl = { limit: 100000, highWater: 10, lowWater: 4 };

  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const container = document.getElementById('terminal-container');
  const term = new Terminal(termOptions);
  const fit = new FitAddon.FitAddon();
  window.term = term; // as ttyd does
  // The bench finds the terminal the same way on both pages: a non-enumerable property of the element.
  Object.defineProperty(container, '__xterm', { value: term, configurable: true });
  term.loadAddon(fit);
  term.open(container);
  fit.fit();

  let socket = null;
  let written = 0;
  let pending = 0;

  function sendData(data) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (typeof data === 'string') {
      socket.send(enc.encode(INPUT + data));
    } else {
      const payload = new Uint8Array(data.length + 1);
      payload[0] = INPUT.charCodeAt(0);
      payload.set(data, 1);
      socket.send(payload);
    }
  }

  function writeData(data) {
    written += data.length;
    if (written > flowControl.limit) {
      term.write(data, () => {
        pending = Math.max(pending - 1, 0);
        if (pending < flowControl.lowWater) socket && socket.send(enc.encode(RESUME));
      });
      pending++;
      written = 0;
      if (pending > flowControl.highWater) socket && socket.send(enc.encode(PAUSE));
    } else {
      term.write(data);
    }
  }

  term.onData((d) => sendData(d));
  term.onBinary((d) => sendData(Uint8Array.from(d, (c) => c.charCodeAt(0))));
  term.onResize(({ cols, rows }) => { if (socket) socket.send(enc.encode(RESIZE_TERMINAL + JSON.stringify({ columns: cols, rows }))); });
  term.onTitleChange((t) => { if (t) document.title = t; });
  window.addEventListener('resize', () => fit.fit());
  document.getElementById('bench-click').addEventListener('click', () => {
    const s = term.getSelection();
    if (s) { try { document.execCommand('copy'); } catch { /* ignore */ } }
    term.focus();
  });

  function connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(`${proto}//${location.host}/ws`, ['tty']);
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => {
      socket.send(enc.encode(JSON.stringify({ AuthToken: '', columns: term.cols, rows: term.rows })));
      term.focus();
    });
    socket.addEventListener('message', (ev) => {
      const raw = ev.data;
      const cmd = String.fromCharCode(new Uint8Array(raw)[0]);
      const data = raw.slice(1);
      if (cmd === OUTPUT) writeData(new Uint8Array(data));
      else if (cmd === SET_WINDOW_TITLE) document.title = dec.decode(data);
      else if (cmd === SET_PREFERENCES) { /* ttyd's server-side preferences: none given here */ }
    });
    socket.addEventListener('close', (ev) => {
      term.write(`\r\n[connection closed: ${ev.code}]\r\n`);
    });
  }
  connect();
})();
