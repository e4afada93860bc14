// A real OpenID provider for Hubbub's tests: panva's oidc-provider (a certified implementation),
// with its development login and consent pages, which tests fill like a person would.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: {"issuer": "http://127.0.0.2:PORT", "host": "127.0.0.2", "port": PORT,
//          "jwks": {"keys": [private JWKs]}, "clients": [client metadata]}: the tests make the
// keys, so they can also mint tokens "from" this provider that it would never send (expired,
// for another audience).
//
// Clients register themselves (dynamic client registration, POST /reg), each test its own; the
// "clients" of CONFIG are there from the start (for a provider that is stopped and started).
// A few endpoints under /__test/ let a test set the scene; no provider has them:
//   POST /__test/accounts   {"id": ..., "claims": {...}}   an account: its id is what the login
//                           page takes (any password), its claims what userinfo answers
//   POST /__test/keys       {"keys": [...]}                 key rotation: a new key set (signing
//                           with the first), everything else kept
//   POST /__test/next-id-token {"id_token": "..."}          the next token response carries
//                           this ID token instead of its own (a provider that misbehaves)
import { readFileSync } from "node:fs";
import http from "node:http";

import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));

// One store for every provider instance (a key rotation makes a new one): clients, grants and
// sessions survive it. Unbounded, unlike the library's LRU: the tests' clients must not be
// evicted while a long run registers many.
const storage = new Map();
const accounts = new Map();
let nextIdToken = null;

class TestAdapter {
  constructor(model) {
    this.model = model;
  }
  key(id) {
    return `${this.model}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
    storage.set(this.key(id), { payload, expiresAt });
    if (this.model === "Session") storage.set(`sessionUid:${payload.uid}`, { payload: id, expiresAt });
    if (payload.grantId) {
      const grant = `grant:${payload.grantId}`;
      const members = storage.get(grant)?.payload ?? [];
      storage.set(grant, { payload: [...members, this.key(id)], expiresAt: Infinity });
    }
  }
  async find(id) {
    const entry = storage.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      storage.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }
  async findByUid(uid) {
    const id = storage.get(`sessionUid:${uid}`)?.payload;
    return id === undefined ? undefined : this.find(id);
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id) {
    const entry = storage.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    storage.delete(this.key(id));
  }
  async revokeByGrantId(grantId) {
    for (const key of storage.get(`grant:${grantId}`)?.payload ?? []) storage.delete(key);
    storage.delete(`grant:${grantId}`);
  }
}

async function findAccount(_ctx, id) {
  const claims = accounts.get(id) ?? { preferred_username: id };
  return {
    accountId: id,
    async claims() {
      return { ...claims, sub: id };
    },
  };
}

function makeProvider(jwks) {
  const provider = new Provider(config.issuer, {
    adapter: TestAdapter,
    clients: config.clients ?? [],
    findAccount,
    jwks,
    claims: {
      openid: ["sub"],
      profile: ["name", "preferred_username", "groups", "nickname"],
      email: ["email", "email_verified"],
    },
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    cookies: { keys: ["hubbub-tests-cookie-key"] },
    pkce: { required: () => true },
    responseTypes: ["code"],
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  // The next token response, as a misbehaving provider would send it.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === "/token" && ctx.method === "POST" && ctx.status === 200 && nextIdToken !== null) {
      ctx.body = { ...ctx.body, id_token: nextIdToken };
      nextIdToken = null;
    }
  });
  provider.on("server_error", (_ctx, error) => console.error("provider server_error", error));
  return provider;
}

let handler = makeProvider(config.jwks).callback();

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
}

async function control(req, res) {
  const data = await body(req);
  if (req.url === "/__test/accounts") accounts.set(data.id, data.claims);
  else if (req.url === "/__test/keys") handler = makeProvider(data).callback();
  else if (req.url === "/__test/next-id-token") nextIdToken = data.id_token;
  else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(204).end();
}

const server = http.createServer((req, res) => {
  if (req.method === "POST" && req.url.startsWith("/__test/")) {
    control(req, res).catch((error) => {
      console.error(error);
      res.writeHead(500).end(String(error));
    });
    return;
  }
  handler(req, res);
});
server.listen(config.port, config.host, () => {
  console.log(`oidc-provider ready at ${config.issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
