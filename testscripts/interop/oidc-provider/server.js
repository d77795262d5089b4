// A third-party OpenID Provider for stella's interop suite: panva's
// oidc-provider (OpenID Certified), configured as a StellaOps-like
// Authority, plus a small resource server that checks access tokens and
// DPoP proofs the way a real one does, and test-only admin routes.
//
//   node server.js [--port N] [--require-dpop-nonce] [--opaque] [--access-ttl SECONDS]
//
// Loopback only. Prints "listening http://127.0.0.1:<port>" on stdout once
// ready; everything else goes to stderr.
import { createServer } from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'require-dpop-nonce': { type: 'boolean', default: false },
    opaque: { type: 'boolean', default: false },
    'access-ttl': { type: 'string', default: '300' },
  },
});
const accessTTL = Number(opts['access-ttl']);
const log = (...a) => console.error('oidc-provider:', ...a);

// The one user.
const operator = {
  id: 'operator', password: 'operator-password',
  claims: { sub: 'operator', name: 'Operator One', email: 'operator@example.test', email_verified: true },
};

// Counters for the tests (GET /admin/stats).
const stats = {
  token_requests_by_grant: {}, refresh_reuse_detected: 0, device_codes_issued: 0,
  revocations: 0, backend_calls: 0, dpop_nonce_challenges: 0, backend_dpop_nonce_challenges: 0,
};
const bump = (m, k) => { m[k] = (m[k] || 0) + 1; };
// Every secret the provider hands out or receives, for the suite's leak
// check (GET /admin/secrets).
const issued = new Set(['stella-ci-secret', 'operator-password']);
let latestUserCode = '';
let shortTokens = 0; // POST /admin/short-tokens?n=N: the next N access tokens live 2 s

// Signing keys: RS256 for ID tokens (every client supports it), ES256 too.
const keys = [];
for (const alg of ['RS256', 'ES256']) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  keys.push({ ...(await jose.exportJWK(privateKey)), alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}` });
}
const publicJWKS = jose.createLocalJWKSet({ keys: keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub) });

const server = createServer();
await new Promise((resolve) => server.listen(Number(opts.port), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const audience = `${issuer}/api`; // the backend's resource indicator

const html = (title, body) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  jwks: { keys },
  clients: [
    {
      client_id: 'stella-cli', application_type: 'native', token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'], redirect_uris: ['http://127.0.0.1/callback'],
    },
    {
      client_id: 'stella-ci', client_secret: 'stella-ci-secret', token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    },
  ],
  scopes: ['openid', 'offline_access', 'profile', 'email', 'stellaops.api'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  async findAccount(ctx, id) {
    if (id !== operator.id) return undefined;
    return { accountId: id, async claims() { return { ...operator.claims }; } };
  },
  pkce: { required: () => true, methods: ['S256'] },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: () => (shortTokens > 0 ? (shortTokens--, 2) : accessTTL), ClientCredentials: accessTTL, AuthorizationCode: 60, IdToken: 3600,
    DeviceCode: 600, Grant: 86400, Interaction: 600, Session: 86400, RefreshToken: 86400,
  },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: {
      enabled: true,
      userCodeInputSource(ctx, form, out, err) {
        ctx.body = html('Sign in to a device', `${err ? `<p class="error">${esc(err.message || 'error')}</p>` : ''}${form.replace('</form>', '<label>Code <input type="text" name="user_code" id="user_code" autofocus></label><button type="submit" id="submit">Continue</button></form>')}`);
      },
      userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
        ctx.body = html('Confirm the code', `<p>Is <b>${esc(userCode)}</b> the code shown on your device?</p>${form.replace('</form>', '<button type="submit" id="confirm">Yes, continue</button><button type="submit" name="xsrf_abort" id="abort" value="1">No</button></form>')}`);
      },
      successSource(ctx) { ctx.body = html('Signed in', '<p id="done">You may close this page and return to your device.</p>'); },
    },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
    dPoP: {
      enabled: true,
      nonceSecret: randomBytes(32),
      requireNonce: () => opts['require-dpop-nonce'],
    },
    resourceIndicators: {
      enabled: true,
      // Tokens are for the backend only when the client asks (RFC 8707
      // `resource`, stella's Audience); without, an opaque token that
      // userinfo accepts. Client credentials always get the backend.
      defaultResource: (ctx, client) => (client.clientId === 'stella-ci' ? audience : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resource) {
        if (resource !== audience) throw new errors.InvalidTarget();
        return {
          scope: 'stellaops.api', audience,
          accessTokenFormat: opts.opaque ? 'opaque' : 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(16).toString('hex')] },
});
provider.proxy = false;

provider.on('grant.success', (ctx) => bump(stats.token_requests_by_grant, ctx.oidc.params.grant_type));
provider.on('grant.error', (ctx, err) => {
  if (err.error_description === 'refresh token already used') stats.refresh_reuse_detected++;
});
provider.on('device_authorization.success', (ctx, body) => { stats.device_codes_issued++; latestUserCode = body.user_code; });
provider.on('server_error', (ctx, err) => log('server error:', err));
for (const ev of ['grant.error', 'authorization.error', 'revocation.error', 'userinfo.error', 'device_authorization.error', 'introspection.error']) {
  provider.on(ev, (ctx, err) => log(ev, err.error, err.error_description || ''));
}
// DPoP nonce challenges at the token endpoint: a 400 use_dpop_nonce.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.status === 400 && ctx.body && ctx.body.error === 'use_dpop_nonce') stats.dpop_nonce_challenges++;
  if (ctx.oidc && ctx.oidc.route === 'revocation' && ctx.status === 200) stats.revocations++;
  if (ctx.body && typeof ctx.body === 'object') {
    for (const k of ['access_token', 'refresh_token', 'id_token', 'device_code']) if (ctx.body[k]) issued.add(ctx.body[k]);
  }
  const loc = ctx.response.get('location');
  if (loc) {
    try { const code = new URL(loc, issuer).searchParams.get('code'); if (code) issued.add(code); } catch {}
  }
  for (const k of ['code_verifier', 'refresh_token', 'device_code', 'code']) {
    const v = ctx.oidc && ctx.oidc.params && ctx.oidc.params[k];
    if (typeof v === 'string' && v) issued.add(v);
  }
});

const readForm = (req) => new Promise((resolve, reject) => {
  let b = '';
  req.on('data', (c) => { b += c; if (b.length > 1 << 16) reject(new Error('too large')); });
  req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(b))));
  req.on('error', reject);
});
const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

// The interaction pages: a login form, then a consent page with Allow and Deny.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') {
      return send(res, 200, html('Sign in to the interop provider', `<form method="post" action="/interaction/${uid}">
<input type="hidden" name="action" value="login">
<label>User <input name="username" id="username" autofocus></label>
<label>Password <input name="password" id="password" type="password"></label>
<button type="submit" id="sign-in">Sign in</button></form>`));
    }
    const scopes = [...new Set(String(params.scope || '').split(' ').filter(Boolean))];
    return send(res, 200, html('Allow access?', `<p><b>${esc(params.client_id)}</b> asks for: ${scopes.map(esc).join(', ')}</p>
<form method="post" action="/interaction/${uid}"><input type="hidden" name="action" value="consent">
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>`));
  }
  const form = await readForm(req);
  if (form.action === 'login') {
    if (form.username !== operator.id || form.password !== operator.password) {
      return send(res, 200, html('Sign in to the interop provider', `<p class="error" id="error">Wrong user or password.</p>
<form method="post" action="/interaction/${uid}"><input type="hidden" name="action" value="login">
<label>User <input name="username" id="username"></label>
<label>Password <input name="password" id="password" type="password"></label>
<button type="submit" id="sign-in">Sign in</button></form>`));
    }
    return provider.interactionFinished(req, res, { login: { accountId: operator.id } }, { mergeWithLastSubmission: false });
  }
  if (form.decision !== 'allow') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user denied the request' }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
  const d = prompt.details;
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes || {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

// The resource server: GET /api/v1/me, checking the token and, for a
// DPoP-bound one, the proof (RFC 9449 §4.3, §7).
const seenJTIs = new Map();
let backendNonce = randomBytes(16).toString('base64url');
const b64sha256 = (s) => createHash('sha256').update(s).digest('base64url');

function challenge(res, scheme, error, description, extra = {}) {
  send(res, 401, { error, error_description: description }, {
    'www-authenticate': `${scheme} error="${error}", error_description="${description}"${scheme === 'DPoP' ? ', algs="ES256 RS256 PS256"' : ''}`, ...extra,
  });
}

async function tokenInfo(token) {
  if (token.split('.').length === 3) {
    const { payload } = await jose.jwtVerify(token, publicJWKS, { issuer, audience, typ: 'at+jwt' });
    return { sub: payload.sub, client_id: payload.client_id, scope: payload.scope, jkt: payload.cnf && payload.cnf.jkt };
  }
  const at = await provider.AccessToken.find(token) || await provider.ClientCredentials.find(token);
  if (!at || at.isExpired) throw new Error('unknown or expired token');
  return { sub: at.accountId, client_id: at.clientId, scope: at.scope, jkt: at.jkt };
}

async function backendMe(req, res) {
  stats.backend_calls++;
  const [scheme, token] = String(req.headers.authorization || '').split(' ');
  if (!token || !/^(bearer|dpop)$/i.test(scheme)) return challenge(res, 'Bearer', 'invalid_token', 'missing access token');
  let info;
  try {
    info = await tokenInfo(token);
  } catch (e) {
    return challenge(res, /^dpop$/i.test(scheme) ? 'DPoP' : 'Bearer', 'invalid_token', `token rejected: ${e.message}`);
  }
  if (info.jkt) {
    if (!/^dpop$/i.test(scheme)) return challenge(res, 'DPoP', 'invalid_token', 'this token is DPoP-bound: use the DPoP scheme with a proof');
    const proof = req.headers.dpop;
    if (!proof || Array.isArray(proof)) return challenge(res, 'DPoP', 'invalid_dpop_proof', 'exactly one DPoP proof is required');
    try {
      const hdr = jose.decodeProtectedHeader(proof);
      if (hdr.typ !== 'dpop+jwt' || !hdr.jwk || hdr.jwk.d || !['ES256', 'RS256', 'PS256'].includes(hdr.alg)) throw new Error('bad proof header');
      const { payload } = await jose.jwtVerify(proof, await jose.importJWK(hdr.jwk, hdr.alg), { typ: 'dpop+jwt', maxTokenAge: '60s', clockTolerance: 60 });
      const htu = `${issuer}${req.url.split('?')[0].split('#')[0]}`;
      if (payload.htm !== req.method) throw new Error(`htm ${payload.htm} is not ${req.method}`);
      if (String(payload.htu).split('?')[0].split('#')[0] !== htu) throw new Error(`htu ${payload.htu} is not ${htu}`);
      if (payload.ath !== b64sha256(token)) throw new Error('ath does not match the access token');
      if (await jose.calculateJwkThumbprint(hdr.jwk, 'sha256') !== info.jkt) throw new Error('proof key is not the token\'s key (cnf.jkt)');
      if (!payload.jti || seenJTIs.has(payload.jti)) throw new Error('jti missing or replayed');
      if (opts['require-dpop-nonce'] && payload.nonce !== backendNonce) {
        stats.backend_dpop_nonce_challenges++;
        return challenge(res, 'DPoP', 'use_dpop_nonce', 'resource server requires nonce in DPoP proof', { 'dpop-nonce': backendNonce });
      }
      seenJTIs.set(payload.jti, Date.now());
    } catch (e) {
      return challenge(res, 'DPoP', 'invalid_dpop_proof', e.message);
    }
  }
  const headers = opts['require-dpop-nonce'] ? { 'dpop-nonce': backendNonce } : {};
  return send(res, 200, { sub: info.sub, client_id: info.client_id, scope: info.scope, dpop_bound: Boolean(info.jkt) }, headers);
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    const path = req.url.split('?')[0];
    if (path.startsWith('/interaction/')) return await interaction(req, res);
    if (path === '/api/v1/me' && req.method === 'GET') return await backendMe(req, res);
    if (path === '/admin/stats' && req.method === 'GET') return send(res, 200, stats);
    if (path === '/admin/device/latest' && req.method === 'GET') return send(res, 200, { user_code: latestUserCode });
    if (path === '/admin/secrets' && req.method === 'GET') return send(res, 200, { secrets: [...issued] });
    if (path === '/admin/short-tokens' && req.method === 'POST') {
      shortTokens += Number(new URL(req.url, issuer).searchParams.get('n') || 1);
      return send(res, 204, '');
    }
    if (path === '/admin/stats/reset' && req.method === 'POST') {
      for (const k of Object.keys(stats)) stats[k] = typeof stats[k] === 'number' ? 0 : {};
      return send(res, 204, '');
    }
    if (path === '/admin/rotate-backend-nonce' && req.method === 'POST') {
      backendNonce = randomBytes(16).toString('base64url');
      return send(res, 204, '');
    }
    return callback(req, res);
  } catch (e) {
    log('request failed:', e);
    if (!res.headersSent) send(res, 500, { error: 'server_error', error_description: e.message });
  }
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { server.close(); process.exit(0); });
console.log(`listening ${issuer}`);
