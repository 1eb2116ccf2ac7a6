// Real socket.io-client clients for affinity's proxy tests.
//
//   node client.js --url http://127.0.0.1:PORT [--clients 200] [--echoes 20]
//                  [--deadline-ms 30000] [--hold]
//
// Starts N clients at once with socket.io-client's defaults (transports polling, then an upgrade
// to websocket; reconnection on, 1 s..5 s back-off) plus withCredentials: true, which in Node.js
// turns on engine.io-client's cookie jar so the client keeps cookies as a browser does. Each
// client waits for the backend's "hello" (received over polling), waits for the upgrade, then
// sends K "echo" events one after the other and collects the acknowledgements.
// Prints one JSON line per client on stdout when it is done (or at the deadline):
//   {"event":"client","client":3,"sid":"...","pollingBackend":"sio-1","upgradedBackend":"sio-1",
//    "transport":"websocket","upgraded":true,"echoes":20,"echoBackends":["sio-1"],
//    "connectErrors":0,"disconnects":0,"reconnects":0,"errors":[]}
// then {"event":"done","clients":N}.
// With --hold the clients stay connected after that and report, until stdin closes:
//   {"event":"disconnect","client":3,"reason":"transport close"}
//   {"event":"reconnect","client":3,"attempt":1,"backend":"sio-2","sid":"...","echo":"sio-2"}
// (attempt: the client's reconnection attempt that succeeded, 1 for the first).
"use strict";

const { io } = require("socket.io-client");

function arg(name, fallback) {
  const i = process.argv.indexOf("--" + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const url = arg("url", "http://127.0.0.1:3000");
const clients = parseInt(arg("clients", "200"), 10);
const echoes = parseInt(arg("echoes", "20"), 10);
const deadlineMs = parseInt(arg("deadline-ms", "30000"), 10);
const hold = process.argv.includes("--hold");

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function withTimeout(promise, ms) {
  return Promise.race([
    promise,
    new Promise((resolve) => setTimeout(() => resolve(undefined), ms)),
  ]);
}

const sockets = [];

async function runClient(n) {
  const started = Date.now();
  const left = () => Math.max(1, deadlineMs - (Date.now() - started));
  const socket = io(url, { forceNew: true, withCredentials: true });
  sockets.push(socket);
  const r = {
    event: "client",
    client: n,
    sid: null,
    pollingBackend: null,
    upgradedBackend: null,
    transport: null,
    upgraded: false,
    echoes: 0,
    echoBackends: [],
    connectErrors: 0,
    disconnects: 0,
    reconnects: 0,
    errors: [],
  };
  let reportDone = false;
  let helloResolve;
  const hello = new Promise((resolve) => (helloResolve = resolve));
  socket.on("hello", (h) => {
    if (r.pollingBackend === null) {
      r.pollingBackend = h.backend;
      r.sid = socket.io.engine ? socket.io.engine.id : null;
      helloResolve();
    } else if (hold) {
      // a hello after a reconnect: the new session's backend
      socket.timeout(left()).emit("echo", -1, (err, ack) => {
        out({
          event: "reconnect",
          client: n,
          attempt: lastAttempt,
          backend: h.backend,
          sid: socket.io.engine ? socket.io.engine.id : null,
          echo: err ? null : ack.backend,
        });
      });
    }
  });
  socket.on("connect_error", (err) => {
    r.connectErrors++;
    if (r.errors.length < 5) r.errors.push(String(err && err.message));
  });
  socket.on("disconnect", (reason) => {
    r.disconnects++;
    if (hold && reportDone) out({ event: "disconnect", client: n, reason });
  });
  let lastAttempt = 0;
  socket.io.on("reconnect", (attempt) => {
    r.reconnects++;
    lastAttempt = attempt;
  });

  await withTimeout(hello, left());
  if (r.pollingBackend !== null) {
    const engine = socket.io.engine;
    if (engine.transport.name !== "websocket") {
      await withTimeout(new Promise((resolve) => engine.once("upgrade", resolve)), left());
    }
    r.upgraded = engine.transport.name === "websocket";
    for (let i = 0; i < echoes && Date.now() - started < deadlineMs; i++) {
      try {
        const ack = await socket.timeout(left()).emitWithAck("echo", i);
        if (ack && ack.n === i) {
          r.echoes++;
          if (!r.echoBackends.includes(ack.backend)) r.echoBackends.push(ack.backend);
          if (r.upgradedBackend === null && ack.transport === "websocket") {
            r.upgradedBackend = ack.backend;
          }
        }
      } catch (e) {
        if (r.errors.length < 5) r.errors.push("echo " + i + ": " + e.message);
      }
    }
    r.transport = socket.io.engine ? socket.io.engine.transport.name : null;
  }
  out(r);
  reportDone = true;
  if (!hold) socket.close();
}

(async () => {
  const all = [];
  for (let i = 0; i < clients; i++) all.push(runClient(i));
  await Promise.all(all);
  out({ event: "done", clients });
  if (!hold) process.exit(0);
})();

function stop() {
  for (const s of sockets) s.close();
  process.exit(0);
}
if (hold) {
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}
process.on("SIGTERM", stop);
