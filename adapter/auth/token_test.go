package auth

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokenRequestsAreRefused(t *testing.T) {
	f := newFixture(t)
	now := f.clock.now()
	gpKid := kidOf(t, f.gpKey)
	trustKid := kidOf(t, f.trustKey)
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "gp-a12345", "sub": "gp-a12345", "aud": testTokenURL,
			"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "jti-" + t.Name()}
		edit(c)
		return c
	}
	gp := func(edit func(jwt.MapClaims)) string {
		return signed(t, jwt.SigningMethodES256, f.gpKey, map[string]any{"kid": gpKid}, claims(edit))
	}
	with := func(edit func(url.Values)) url.Values {
		form := tokenForm(f.assertion(f.gpKey, "gp-a12345"), "")
		edit(form)
		return form
	}
	replayed := f.assertion(f.gpKey, "gp-a12345")
	if _, err := f.svc.Token(context.Background(), tokenForm(replayed, "")); err != nil {
		t.Fatalf("first use of an assertion: %v", err)
	}
	noJTI := func(c jwt.MapClaims) { delete(c, "jti") }

	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"without grant_type", with(func(v url.Values) { v.Del("grant_type") }), 400, "invalid_request"},
		{"with grant_type password", with(func(v url.Values) { v.Set("grant_type", "password") }), 400, "unsupported_grant_type"},
		{"with grant_type authorization_code", with(func(v url.Values) { v.Set("grant_type", "authorization_code") }), 400, "unsupported_grant_type"},
		{"with another client_assertion_type", with(func(v url.Values) {
			v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		}), 400, "invalid_request"},
		{"without client_assertion", with(func(v url.Values) { v.Del("client_assertion") }), 400, "invalid_request"},
		{"with a parameter given twice", with(func(v url.Values) { v.Add("grant_type", "client_credentials") }), 400, "invalid_request"},
		{"with a scope the client is not allowed", with(func(v url.Values) { v.Set("scope", "system/Observation.rs") }), 400, "invalid_scope"},
		{"with a wider permission than allowed", with(func(v url.Values) { v.Set("scope", "system/Patient.rsu") }), 400, "invalid_scope"},
		{"with a wildcard scope the client has only per type", with(func(v url.Values) { v.Set("scope", "system/*.rs") }), 400, "invalid_scope"},
		{"with a patient scope", with(func(v url.Values) { v.Set("scope", "patient/Task.rs") }), 400, "invalid_scope"},
		{"with a user scope", with(func(v url.Values) { v.Set("scope", "user/Task.read") }), 400, "invalid_scope"},
		{"with a scope that does not parse", with(func(v url.Values) { v.Set("scope", "system/Task.sr") }), 400, "invalid_scope"},
		{"with a client_id other than the assertion's", with(func(v url.Values) { v.Set("client_id", "trust-rxx") }), 401, "invalid_client"},
		{"with an assertion that is not a JWT", tokenForm("garbage", ""), 401, "invalid_client"},
		{"from a client the gateway does not know", tokenForm(f.assertion(f.gpKey, "ghost"), ""), 401, "invalid_client"},
		{"signed by another client's key", tokenForm(f.assertion(f.trustKey, "gp-a12345"), ""), 401, "invalid_client"},
		{"signed by an unknown key under the client's kid", tokenForm(signed(t, jwt.SigningMethodES256, otherEC(t), map[string]any{"kid": gpKid}, claims(func(jwt.MapClaims) {})), ""), 401, "invalid_client"},
		{"with a tampered signature", tokenForm(tamperSignature(gp(func(jwt.MapClaims) {})), ""), 401, "invalid_client"},
		{"with alg none", tokenForm(signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": gpKid}, claims(func(jwt.MapClaims) {})), ""), 401, "invalid_client"},
		{"HS256 with the client's public JWKS as the secret", tokenForm(signed(t, jwt.SigningMethodHS256, []byte(mustJWKS(t, f.gpKey)), map[string]any{"kid": gpKid}, claims(func(jwt.MapClaims) {})), ""), 401, "invalid_client"},
		{"ES256 under the kid of the trust's RSA key", tokenForm(signed(t, jwt.SigningMethodES256, otherEC(t), map[string]any{"kid": trustKid},
			claims(func(c jwt.MapClaims) { c["iss"], c["sub"] = "trust-rxx", "trust-rxx" })), ""), 401, "invalid_client"},
		{"for another audience", tokenForm(gp(func(c jwt.MapClaims) { c["aud"] = "https://elsewhere.test/auth/token" }), ""), 401, "invalid_client"},
		{"for the FHIR base instead of the token URL", tokenForm(gp(func(c jwt.MapClaims) { c["aud"] = testIssuer }), ""), 401, "invalid_client"},
		{"whose sub is not its iss", tokenForm(gp(func(c jwt.MapClaims) { c["sub"] = "trust-rxx" }), ""), 401, "invalid_client"},
		{"expired", tokenForm(gp(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Add(-5*time.Minute).Unix(), now.Add(-time.Minute).Unix()
		}), ""), 401, "invalid_client"},
		{"without exp", tokenForm(gp(func(c jwt.MapClaims) { delete(c, "exp") }), ""), 401, "invalid_client"},
		{"issued in the future", tokenForm(gp(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Add(2*time.Minute).Unix(), now.Add(4*time.Minute).Unix()
		}), ""), 401, "invalid_client"},
		{"not valid yet", tokenForm(gp(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), ""), 401, "invalid_client"},
		{"living longer than five minutes", tokenForm(gp(func(c jwt.MapClaims) { c["exp"] = now.Add(6 * time.Minute).Unix() }), ""), 401, "invalid_client"},
		{"without iat, expiring more than five minutes from now", tokenForm(gp(func(c jwt.MapClaims) {
			delete(c, "iat")
			c["exp"] = now.Add(6 * time.Minute).Unix()
		}), ""), 401, "invalid_client"},
		{"without jti", tokenForm(gp(noJTI), ""), 401, "invalid_client"},
		{"used before (same jti)", tokenForm(replayed, ""), 401, "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.svc.Token(context.Background(), tc.form)
			e, ok := errors.AsType[*OAuthError](err)
			if !ok {
				t.Fatalf("Token = %+v, %v; want *OAuthError", res, err)
			}
			if e.Status != tc.status || e.Code != tc.code {
				t.Errorf("refusal = %d %s (%s), want %d %s", e.Status, e.Code, e.Description, tc.status, tc.code)
			}
			if a := tc.form.Get("client_assertion"); e.Description == "" || (len(a) > 20 && strings.Contains(e.Description, a[:20])) {
				t.Errorf("description %q is empty or repeats the assertion", e.Description)
			}
		})
	}
}

func TestAssertionWithoutIatWithinFiveMinutesIsAccepted(t *testing.T) {
	f := newFixture(t)
	c := jwt.MapClaims{"iss": "gp-a12345", "sub": "gp-a12345", "aud": testTokenURL,
		"exp": f.clock.now().Add(4 * time.Minute).Unix(), "jti": "no-iat"}
	a := signed(t, jwt.SigningMethodES256, f.gpKey, map[string]any{"kid": kidOf(t, f.gpKey)}, c)
	if _, err := f.svc.Token(context.Background(), tokenForm(a, "system/Task.rs")); err != nil {
		t.Fatal(err)
	}
}

func TestTheSameJTIFromTwoClientsIsNotAReplay(t *testing.T) {
	f := newFixture(t)
	now := f.clock.now()
	for _, c := range []struct {
		id     string
		key    crypto.Signer
		method jwt.SigningMethod
	}{{"gp-a12345", f.gpKey, jwt.SigningMethodES256}, {"trust-rxx", f.trustKey, jwt.SigningMethodRS384}} {
		a := signed(t, c.method, c.key, map[string]any{"kid": kidOf(t, c.key)}, jwt.MapClaims{
			"iss": c.id, "sub": c.id, "aud": testTokenURL, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "shared"})
		if _, err := f.svc.Token(context.Background(), tokenForm(a, "")); err != nil {
			t.Errorf("%s: %v", c.id, err)
		}
	}
	if until := f.nonces.used["client-assertion:gp-a12345:shared"]; !until.Equal(now.Add(time.Minute + DefaultLeeway).Truncate(time.Second)) {
		t.Errorf("nonce kept until %v, want exp + leeway", until)
	}
}

func TestClientJWKSIsFetchedOnceThenOnUnknownKidAtMostEveryTenSeconds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	client := "remote-b23456"
	if _, err := f.svc.Token(ctx, tokenForm(f.assertion(f.remoteKey, client), "")); err != nil {
		t.Fatalf("first token: %v", err)
	}
	if _, err := f.svc.Token(ctx, tokenForm(f.assertion(f.remoteKey, client), "")); err != nil {
		t.Fatalf("second token: %v", err)
	}
	if got := f.jwks.fetches.Load(); got != 1 {
		t.Fatalf("fetches after two tokens = %d, want 1 (cached)", got)
	}

	// The client rotates: its new kid makes one refresh.
	f.clock.advance(11 * time.Second)
	rotated := newSigner(t, "ES256")
	f.jwks.publish(f.remoteKey, rotated)
	if _, err := f.svc.Token(ctx, tokenForm(f.assertion(rotated, client), "")); err != nil {
		t.Fatalf("token with the rotated key: %v", err)
	}
	if got := f.jwks.fetches.Load(); got != 2 {
		t.Fatalf("fetches after an unknown kid = %d, want 2", got)
	}

	// Unknown kids within ten seconds make no fetch and are refused.
	stranger := newSigner(t, "ES256")
	for range 3 {
		if _, err := f.svc.Token(ctx, tokenForm(f.assertion(stranger, client), "")); err == nil {
			t.Fatal("an assertion signed by an unpublished key is accepted")
		}
	}
	if got := f.jwks.fetches.Load(); got != 2 {
		t.Fatalf("fetches after unknown kids within 10 s = %d, want still 2", got)
	}
	f.clock.advance(11 * time.Second)
	if _, err := f.svc.Token(ctx, tokenForm(f.assertion(stranger, client), "")); err == nil {
		t.Fatal("an assertion signed by an unpublished key is accepted after refresh")
	}
	if got := f.jwks.fetches.Load(); got != 3 {
		t.Fatalf("fetches after an unknown kid 10 s later = %d, want 3", got)
	}
}

func TestConcurrentFirstUsesOfAClientJWKSFetchItOnce(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		a := f.assertion(f.remoteKey, "remote-b23456")
		wg.Go(func() {
			if _, err := f.svc.Token(context.Background(), tokenForm(a, "")); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.jwks.fetches.Load(); got != 1 {
		t.Errorf("fetches = %d, want 1", got)
	}
}

func TestAWithdrawnClientKeyStopsWorkingOnceTheCacheIsOld(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Token(ctx, tokenForm(f.assertion(f.remoteKey, "remote-b23456"), "")); err != nil {
		t.Fatal(err)
	}
	f.jwks.publish(newSigner(t, "ES256"))
	f.clock.advance(maxKeySetAge + time.Second)
	if _, err := f.svc.Token(ctx, tokenForm(f.assertion(f.remoteKey, "remote-b23456"), "")); err == nil {
		t.Fatal("a key the client withdrew still works after the cache aged")
	}
}

func TestAnUnreachableClientJWKSKeepsTheKeysThereWere(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Token(ctx, tokenForm(f.assertion(f.remoteKey, "remote-b23456"), "")); err != nil {
		t.Fatal(err)
	}
	f.jwks.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.jwks.fetches.Add(1)
		w.WriteHeader(http.StatusNotFound)
	})
	f.clock.advance(maxKeySetAge + time.Second)
	if _, err := f.svc.Token(ctx, tokenForm(f.assertion(f.remoteKey, "remote-b23456"), "")); err != nil {
		t.Fatalf("a failed refresh dropped the cached keys: %v", err)
	}
}

func TestTrustedIssuerTokensAreLimitedToTheClientsAllowedScopes(t *testing.T) {
	f := newFixture(t)
	now := f.clock.now()
	kid := kidOf(t, f.issuerKey)
	external := func(edit func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"iss": testExternalIssuer, "aud": testIssuer, "client_id": "trust-rxx",
			"scope": "system/*.cruds", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
		edit(c)
		return signed(t, jwt.SigningMethodRS256, f.issuerKey, map[string]any{"kid": kid}, c)
	}
	p, err := f.svc.Authenticate(context.Background(), external(func(jwt.MapClaims) {}))
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != "trust-rxx" || p.ODS != "RXX" {
		t.Errorf("principal = %+v, want trust-rxx of RXX", p)
	}
	for _, c := range []struct {
		resourceType string
		i            Interaction
		want         bool
	}{{"Patient", Read, true}, {"Patient", Search, true}, {"Patient", Create, false}, {"Task", Update, true}, {"Observation", Delete, false}} {
		if got := p.Scopes.Allows(c.resourceType, c.i); got != c.want {
			t.Errorf("Allows(%s, %s) = %v, want %v (scopes %q)", c.resourceType, c.i, got, c.want, p.Scopes)
		}
	}
	for name, token := range map[string]string{
		"for an unknown client":  external(func(c jwt.MapClaims) { c["client_id"] = "ghost" }),
		"without a client claim": external(func(c jwt.MapClaims) { delete(c, "client_id") }),
		"for another audience":   external(func(c jwt.MapClaims) { c["aud"] = "https://elsewhere.test" }),
		"signed by an unknown key": signed(t, jwt.SigningMethodRS256, otherRSA(t), map[string]any{"kid": kid},
			jwt.MapClaims{"iss": testExternalIssuer, "aud": testIssuer, "client_id": "trust-rxx", "scope": "system/*.rs", "exp": now.Add(time.Minute).Unix()}),
		"granting nothing the client may do": external(func(c jwt.MapClaims) { c["scope"] = "system/Observation.c" }),
	} {
		if _, err := f.svc.Authenticate(context.Background(), token); err == nil {
			t.Errorf("a trusted issuer's token %s is accepted", name)
		}
	}
}

func tamperSignature(token string) string {
	i := strings.LastIndexByte(token, '.')
	return token[:i+1] + tamper(token[i+1:])
}

func mustJWKS(t *testing.T, key crypto.Signer) string {
	t.Helper()
	doc, err := jwksDocument([]publicKey{{kid: kidOf(t, key), key: key.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}
