package auth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

func TestAccessTokenFromTheTokenEndpointAuthenticatesTheClient(t *testing.T) {
	f := newFixture(t)
	res, err := f.svc.Token(context.Background(), tokenForm(f.assertion(f.gpKey, "gp-a12345"), "system/Task.rs"))
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if res.TokenType != "bearer" || res.ExpiresIn != 300 || res.Scope != "system/Task.rs" {
		t.Errorf("token response = %+v, want bearer, 300 s, system/Task.rs", res)
	}
	p, err := f.svc.Authenticate(context.Background(), res.AccessToken)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	got := []string{p.ClientID, p.ODS, p.Side, p.Profile, p.Scopes.String()}
	want := []string{"gp-a12345", "A12345", SidePrimary, "uk-core-gp", "system/Task.rs"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
	if !p.Scopes.Allows("Task", Search) || p.Scopes.Allows("Task", Update) || p.Scopes.Allows("Patient", Read) {
		t.Errorf("scopes %q allow more or less than Task read and search", p.Scopes)
	}
}

func TestTokenWithoutScopeGetsEverythingTheClientIsAllowed(t *testing.T) {
	f := newFixture(t)
	p, err := f.svc.Authenticate(context.Background(), f.accessToken(f.trustKey, "trust-rxx", ""))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Scopes.String(), "system/*.read system/Task.write"; got != want {
		t.Errorf("scopes = %q, want %q", got, want)
	}
}

func TestAccessTokensAreRefused(t *testing.T) {
	f := newFixture(t)
	gw := f.gatewaySigner()
	gwPublicPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(gw.key.Public())
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()
	header := map[string]any{"kid": gw.kid, "typ": accessTokenType}
	good := func(edit func(jwt.MapClaims)) string {
		c := f.accessClaims("gp-a12345", "system/Task.rs")
		edit(c)
		return signed(t, jwt.SigningMethodES256, gw.key, header, c)
	}
	now := f.clock.now()
	valid := good(func(jwt.MapClaims) {})
	parts := strings.Split(valid, ".")

	tests := []struct {
		name, token, want string
	}{
		{"not a JWT", "not-a-token", "not a JWT"},
		{"expired beyond the leeway", good(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), "expired"},
		{"not valid before a time beyond the leeway", good(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), "not valid yet"},
		{"issued in the future beyond the leeway", good(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Minute).Unix() }), "issued in the future"},
		{"without exp", good(func(c jwt.MapClaims) { delete(c, "exp") }), "required claim"},
		{"for another audience", good(func(c jwt.MapClaims) { c["aud"] = "https://elsewhere.test/fhir" }), "not meant for this gateway"},
		{"without aud", good(func(c jwt.MapClaims) { delete(c, "aud") }), "required claim"},
		{"from an untrusted issuer", good(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }), "issuer is not trusted"},
		{"living longer than the token lifetime", good(func(c jwt.MapClaims) { c["exp"] = now.Add(time.Hour).Unix() }), "lives longer"},
		{"with alg none", signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": gw.kid, "typ": accessTokenType},
			f.accessClaims("gp-a12345", "system/Task.rs")), "signature or algorithm"},
		{"HS256 with the gateway's public key PEM as the secret", signed(t, jwt.SigningMethodHS256, gwPublicPEM, header,
			f.accessClaims("gp-a12345", "system/Task.rs")), "signature or algorithm"},
		{"HS256 with the gateway's JWKS as the secret", signed(t, jwt.SigningMethodHS256, f.svc.JWKS(), header,
			f.accessClaims("gp-a12345", "system/Task.rs")), "signature or algorithm"},
		{"with an unknown kid", signed(t, jwt.SigningMethodES256, otherEC(t), map[string]any{"kid": "nobody", "typ": accessTokenType},
			f.accessClaims("gp-a12345", "system/Task.rs")), "key (kid) is unknown"},
		{"without a kid", signed(t, jwt.SigningMethodES256, gw.key, map[string]any{"typ": accessTokenType},
			f.accessClaims("gp-a12345", "system/Task.rs")), "names no key"},
		{"signed by another key under the gateway's kid", signed(t, jwt.SigningMethodES256, otherEC(t), header,
			f.accessClaims("gp-a12345", "system/Task.rs")), "signature or algorithm"},
		{"with a tampered signature", parts[0] + "." + parts[1] + "." + tamper(parts[2]), "signature or algorithm"},
		{"with a tampered payload", parts[0] + "." + b64.EncodeToString([]byte(`{"iss":"`+testIssuer+`","aud":"`+testIssuer+`","client_id":"gp-a12345","scope":"system/*.cruds","exp":`+strconv.FormatInt(now.Add(time.Minute).Unix(), 10)+`}`)) + "." + parts[2], "signature or algorithm"},
		{"RS256 under the gateway's EC key id", signed(t, jwt.SigningMethodRS256, otherRSA(t), header,
			f.accessClaims("gp-a12345", "system/Task.rs")), "key is for ES256"},
		{"ES384 under the gateway's P-256 key id", signed(t, jwt.SigningMethodES384, newSigner(t, "ES384"), header,
			f.accessClaims("gp-a12345", "system/Task.rs")), "key is for ES256"},
		{"signed by the gateway but not typed as an access token", signed(t, jwt.SigningMethodES256, gw.key, map[string]any{"kid": gw.kid},
			f.accessClaims("gp-a12345", "system/Task.rs")), "not an access token"},
		{"for a client the gateway does not know", good(func(c jwt.MapClaims) { c["client_id"], c["sub"] = "ghost", "ghost" }), "not for a client"},
		{"granting only scopes the client is not allowed", good(func(c jwt.MapClaims) { c["scope"] = "system/Observation.cruds" }), "no scope this client is allowed"},
		{"with a patient scope", good(func(c jwt.MapClaims) { c["scope"] = "patient/Task.rs" }), "scope does not parse"},
		{"a client assertion presented as an access token", f.assertion(f.gpKey, "gp-a12345"), "issuer is not trusted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Authenticate(context.Background(), tc.token)
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("Authenticate error = %v, want *Error", err)
			}
			if !strings.Contains(e.Description, tc.want) {
				t.Errorf("description %q, want it to say %q", e.Description, tc.want)
			}
			if strings.Contains(e.Error(), "gp-a12345") || (len(tc.token) > 20 && strings.Contains(e.Error(), tc.token[:20])) {
				t.Errorf("error %q repeats the token or a claim", e)
			}
		})
	}
	if _, err := f.svc.Authenticate(context.Background(), valid); err != nil {
		t.Errorf("the untampered token is refused: %v", err)
	}
}

// tamper changes the first character of a base64url segment.
func tamper(seg string) string {
	if seg[0] == 'A' {
		return "B" + seg[1:]
	}
	return "A" + seg[1:]
}

func TestAccessTokensWithinTheLeewayAreAccepted(t *testing.T) {
	f := newFixture(t)
	gw := f.gatewaySigner()
	c := f.accessClaims("gp-a12345", "system/Task.rs")
	now := f.clock.now()
	c["iat"], c["nbf"], c["exp"] = now.Add(20*time.Second).Unix(), now.Add(20*time.Second).Unix(), now.Add(-20*time.Second).Add(5*time.Minute).Unix()
	token := signed(t, jwt.SigningMethodES256, gw.key, map[string]any{"kid": gw.kid, "typ": accessTokenType}, c)
	if _, err := f.svc.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("a token 20 s ahead of the gateway's clock is refused: %v", err)
	}
	f.clock.advance(5*time.Minute + 10*time.Second)
	if _, err := f.svc.Authenticate(context.Background(), token); err == nil {
		t.Fatal("a token expired for longer than the leeway is accepted")
	}
}

func TestTokensOfAClientRemovedFromTheConfigurationAreRefused(t *testing.T) {
	f := newFixture(t)
	token := f.accessToken(f.gpKey, "gp-a12345", "system/Task.rs")
	cfg := f.cfg
	cfg.Clients = cfg.Clients[1:]
	after := f.newService(cfg)
	if _, err := after.Authenticate(context.Background(), token); err == nil {
		t.Fatal("a token of a removed client is accepted")
	}
}

func TestNarrowingAClientsScopesNarrowsTheTokensItHolds(t *testing.T) {
	f := newFixture(t)
	token := f.accessToken(f.gpKey, "gp-a12345", "")
	cfg := f.cfg
	cfg.Clients = append([]Client(nil), cfg.Clients...)
	cfg.Clients[0].Scopes = []string{"system/Task.r"}
	p, err := f.newService(cfg).Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Scopes.Allows("Task", Read) || p.Scopes.Allows("Task", Update) || p.Scopes.Allows("Patient", Read) {
		t.Errorf("scopes %q: want Task read only", p.Scopes)
	}
}

func TestRotationPublishesTheNewKeyAndKeepsOldTokensUntilTheOldFileGoes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := f.newService(f.cfg) // a second gateway on the same keys
	oldKid := f.gatewaySigner().kid
	oldToken := f.accessToken(f.gpKey, "gp-a12345", "")

	newKid := f.addGatewayKey("gateway-2", "ES384", time.Now())
	if err := f.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.gatewaySigner().kid; got != newKid {
		t.Fatalf("signing kid = %s, want the newest key %s", got, newKid)
	}
	jwks := string(f.svc.JWKS())
	if !strings.Contains(jwks, oldKid) || !strings.Contains(jwks, newKid) {
		t.Fatalf("JWKS does not publish both keys:\n%s", jwks)
	}
	newToken := f.accessToken(f.gpKey, "gp-a12345", "")
	if kid := headerKid(t, newToken); kid != newKid {
		t.Errorf("new token signed by %s, want %s", kid, newKid)
	}
	for name, svc := range map[string]*Service{"this gateway": f.svc, "a gateway that has not reloaded": other} {
		for tokenName, token := range map[string]string{"old": oldToken, "new": newToken} {
			if _, err := svc.Authenticate(ctx, token); err != nil {
				t.Errorf("%s refuses the %s token: %v", name, tokenName, err)
			}
		}
	}

	if err := os.Remove(filepath.Join(f.keysDir, "gateway-1.pem")); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(f.svc.JWKS()), oldKid) {
		t.Error("JWKS still publishes the removed key")
	}
	if _, err := f.svc.Authenticate(ctx, oldToken); err == nil {
		t.Error("a token signed by the removed key is accepted")
	}
	if _, err := f.svc.Authenticate(ctx, newToken); err != nil {
		t.Errorf("the new token is refused after the old key went: %v", err)
	}
}

func TestUnknownGatewayKidReloadsAtMostOnceInTenSeconds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := f.newService(f.cfg)
	// An unknown kid makes the other gateway reload: nothing new yet.
	bogus := signed(t, jwt.SigningMethodES256, otherEC(t), map[string]any{"kid": "bogus", "typ": accessTokenType}, f.accessClaims("gp-a12345", ""))
	if _, err := other.Authenticate(ctx, bogus); err == nil {
		t.Fatal("a token with an unknown kid is accepted")
	}
	f.addGatewayKey("gateway-2", "ES256", time.Now())
	if err := f.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	token := f.accessToken(f.gpKey, "gp-a12345", "")
	if _, err := other.Authenticate(ctx, token); err == nil {
		t.Fatal("the other gateway reloaded again within 10 s")
	}
	f.clock.advance(11 * time.Second)
	if _, err := other.Authenticate(ctx, token); err != nil {
		t.Fatalf("after 10 s the other gateway still does not know the new key: %v", err)
	}
}

func TestReloadKeepsTheKeysInUseWhenTheDirectoryIsBroken(t *testing.T) {
	f := newFixture(t)
	token := f.accessToken(f.gpKey, "gp-a12345", "")
	writeFile(t, filepath.Join(f.keysDir, "broken.pem"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	if err := f.svc.Reload(context.Background()); err == nil {
		t.Fatal("Reload accepted a broken key file")
	}
	if _, err := f.svc.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("after a failed reload a valid token is refused: %v", err)
	}
}

func headerKid(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}

func TestRunPicksUpANewKeyFileWithoutARestart(t *testing.T) {
	f := newFixture(t)
	cfg := f.cfg
	cfg.ReloadInterval = time.Second
	svc := f.newService(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	newKid := f.addGatewayKey("gateway-2", "ES256", time.Now())
	deadline := time.Now().Add(10 * time.Second)
	for svc.keys.Load().signer.kid != newKid {
		if time.Now().After(deadline) {
			t.Fatal("Run did not start signing with the new key within 10 s")
		}
		time.Sleep(50 * time.Millisecond) // polling a condition with a deadline
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end with its context")
	}
}
