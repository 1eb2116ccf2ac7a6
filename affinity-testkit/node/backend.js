// A real Socket.IO backend for affinity's proxy tests.
//
//   node backend.js --id sio-1 [--port 0]
//
// Listens on 127.0.0.1 (port 0: an ephemeral one) with the socket.io package's defaults (path
// /socket.io, transports polling then websocket) and prints one JSON line per event on stdout:
//   {"event":"listening","id":"sio-1","port":41234}
//   {"event":"connection","id":"sio-1","sid":"...","transport":"polling"}
//   {"event":"upgrade","id":"sio-1","sid":"...","transport":"websocket"}
//   {"event":"connection_error","id":"sio-1","code":1,"message":"Session ID unknown"}
// Each socket gets a "hello" event {backend: id} on connect, and every "echo" event n is
// acknowledged with {backend: id, n, transport} (the transport this backend sees).
// It stops when stdin closes or on SIGTERM.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

function arg(name, fallback) {
  const i = process.argv.indexOf("--" + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const id = arg("id", "sio");
const port = parseInt(arg("port", "0"), 10);

function emit(obj) {
  process.stdout.write(JSON.stringify(Object.assign({ id }, obj)) + "\n");
}

const server = http.createServer();
const io = new Server(server);

io.engine.on("connection_error", (err) => {
  emit({ event: "connection_error", code: err.code, message: err.message });
});

io.on("connection", (socket) => {
  const conn = socket.conn;
  emit({ event: "connection", sid: conn.id, transport: conn.transport.name });
  conn.once("upgrade", (transport) => {
    emit({ event: "upgrade", sid: conn.id, transport: transport.name });
  });
  socket.emit("hello", { backend: id });
  socket.on("echo", (n, ack) => {
    if (typeof ack === "function") {
      ack({ backend: id, n, transport: conn.transport.name });
    }
  });
});

server.listen(port, "127.0.0.1", () => {
  emit({ event: "listening", port: server.address().port });
});

function stop() {
  io.close();
  server.close();
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
