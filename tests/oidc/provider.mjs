// A real OpenID provider for the tests: panva's oidc-provider (certified), on loopback.
//
// Started by tests/oidc_provider.py with PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS
// (comma-separated), RESOURCE (the API's audience) and OTHER_RESOURCE (another API's, for
// wrong-audience tests). Everything here is the library's own protocol code; this file only
// configures it and answers the login interaction with a plain form where the test (or the
// browser) types the subject id and, optionally, the register number the provider vouches
// for. Access tokens for a resource are JWTs (ES256) with that resource as audience.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const port = Number(env('PORT'));
const issuer = `http://127.0.0.1:${port}`;
const resource = env('RESOURCE');
const resources = new Set([resource, env('OTHER_RESOURCE')]);
const registerNumbers = new Map();

const signingKey = (kid) => ({
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
  alg: 'ES256',
});

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('CLIENT_ID'),
    client_secret: env('CLIENT_SECRET'),
    redirect_uris: env('REDIRECT_URIS').split(','),
    post_logout_redirect_uris: env('REDIRECT_URIS').split(',').map((uri) => new URL('/', uri).href),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [signingKey(`dcc-test-${randomUUID()}`)] }, // new keys at every start
  scopes: ['openid', 'professional', 'dcc'],
  claims: { openid: ['sub'], professional: ['register_number'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['dcc-test-cookie-key'] },
  ttl: { AccessToken: 300, IdToken: 300, Interaction: 600, Session: 3600, Grant: 3600 },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (!resources.has(indicator)) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'dcc',
          audience: indicator,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => {
      const number = registerNumbers.get(sub);
      return number ? { sub, register_number: number } : { sub };
    },
  }),
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid professional dcc');
    for (const indicator of resources) grant.addResourceScope(indicator, 'dcc');
    await grant.save();
    return grant;
  },
});

const page = (uid, prompt) => `<!doctype html><html lang="en"><head><title>Test identity provider</title></head>
<body><h1>Test identity provider</h1><p id="prompt">${prompt}</p>
<form method="post" action="/interaction/${uid}">
<label>Subject <input name="login" id="login" autocomplete="off" required></label>
<label>Register number <input name="register_number" id="register_number" autocomplete="off"></label>
<button type="submit" id="sign-in">Sign in</button>
</form></body></html>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; if (body.length > 4096) req.destroy(); });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

const callback = provider.callback();
createServer(async (req, res) => {
  const match = new URL(req.url, issuer).pathname.match(/^\/interaction\/([\w-]+)$/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(details.uid, JSON.stringify(details.prompt).replace(/</g, '&lt;')));
    }
    const form = await readForm(req);
    const login = form.get('login');
    if (form.get('register_number')) registerNumbers.set(login, form.get('register_number'));
    else registerNumbers.delete(login);
    return await provider.interactionFinished(
      req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false },
    );
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    return res.end(String(error));
  }
}).listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
