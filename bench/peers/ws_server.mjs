// Peer: the non-Python ceiling. Node's `ws` server speaking the tutorial's chat lines.
import { WebSocketServer } from "ws";

const port = Number(process.argv[2] ?? 8000);
const server = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: false, maxPayload: 16 * 1024 });
server.on("connection", (socket, request) => {
  const id = request.url.split("/").pop();
  socket.on("message", (data) => {
    const text = data.toString();
    socket.send(`You wrote: ${text}`);
    const line = `Client #${id} says: ${text}`;
    for (const client of server.clients) if (client.readyState === 1) client.send(line);
  });
  socket.on("close", () => {
    for (const client of server.clients) if (client.readyState === 1) client.send(`Client #${id} left the chat`);
  });
});
