// A real OpenID Connect provider for tests/it/sso.rs: oidc-provider (a certified
// implementation) with one static confidential client, PKCE required, and accounts whose
// claims the test gives. Prints `{"port": N}` once listening; stops when stdin closes.
//
// Environment:
//   OIDC_REDIRECT_URI   the client's one redirect URI (the app's /sso/callback)
//   OIDC_CLIENT_ID      client id;  OIDC_CLIENT_SECRET  client secret
//   OIDC_ACCOUNTS       JSON: {"login": {"email": …, "groups": [...]}, …}
//   OIDC_SKEW_SECONDS   run the provider's clock this many seconds in the past, so the ID
//                       tokens it issues are already expired for the app (clock skew)
import http from 'node:http';
import Provider from 'oidc-provider';

const skew = Number(process.env.OIDC_SKEW_SECONDS || 0) * 1000;
if (skew) {
  const realNow = Date.now;
  Date.now = () => realNow() - skew;
}

const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  pkce: { methods: ['S256'], required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // Put the scopes' claims in the ID token itself (what most enterprise providers do).
  conformIdTokenClaims: false,
  cookies: { keys: ['outflow-test-cookie-key'] },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, email_verified: true, ...claims }; } };
  },
  // A first-party client: the grant is given without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
