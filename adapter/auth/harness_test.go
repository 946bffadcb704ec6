package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// memNonces is a NonceStore in memory.
type memNonces struct {
	mu   sync.Mutex
	used map[string]time.Time
}

func (m *memNonces) UseNonce(_ context.Context, key string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used == nil {
		m.used = map[string]time.Time{}
	}
	if _, seen := m.used[key]; seen {
		return false, nil
	}
	m.used[key] = until
	return true, nil
}

// clock is a settable time for a Service under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	testIssuer   = "https://carebridge.test/fhir"
	testTokenURL = "https://carebridge.test/auth/token"
)

// fixture is a gateway with a key directory, two clients with key files
// (a GP practice with an EC key, a trust with an RSA key), a client whose
// keys are published at a JWKS URL on loopback, and a trusted issuer.
type fixture struct {
	t       *testing.T
	cfg     Config
	svc     *Service
	clock   *clock
	nonces  *memNonces
	keysDir string

	gpKey, trustKey, remoteKey, issuerKey crypto.Signer
	jwks                                  *jwksServer
}

const testExternalIssuer = "https://idp.test"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, clock: &clock{t: time.Now().Truncate(time.Second)}, nonces: &memNonces{}, keysDir: filepath.Join(dir, "keys")}
	if err := os.Mkdir(f.keysDir, 0o700); err != nil {
		t.Fatal(err)
	}
	f.addGatewayKey("gateway-1", "ES256", time.Now().Add(-time.Hour))
	f.gpKey = writeClientKey(t, dir, "gp", "ES256")
	f.trustKey = writeClientKey(t, dir, "trust", "RS384")
	f.remoteKey = newSigner(t, "ES384")
	f.issuerKey = newSigner(t, "RS256")
	f.jwks = newJWKSServer(t, f.remoteKey)
	idp := newJWKSServer(t, f.issuerKey)
	f.cfg = Config{
		Issuer:   testIssuer,
		TokenURL: testTokenURL,
		KeysDir:  f.keysDir,
		Clients: []Client{
			{ID: "gp-a12345", ODS: "A12345", Side: SidePrimary, Profile: "uk-core-gp",
				Scopes: []string{"system/Task.cruds", "system/Patient.rs"}, Keys: []string{filepath.Join(dir, "gp.jwks.json")}},
			{ID: "trust-rxx", ODS: "RXX", Side: SideSecondary, Profile: "uk-core-trust",
				Scopes: []string{"system/*.read system/Task.write"}, Keys: []string{filepath.Join(dir, "trust.pub.pem")}},
			{ID: "remote-b23456", ODS: "B23456", Side: SidePrimary, Profile: "uk-core-gp",
				Scopes: []string{"system/Task.rs"}, JWKSURL: f.jwks.URL},
		},
		TrustedIssuers: []Issuer{{Issuer: testExternalIssuer, JWKSURL: idp.URL}},
	}
	f.svc = f.newService(f.cfg)
	return f
}

// newService starts a Service on cfg with the fixture's clock and nonces.
func (f *fixture) newService(cfg Config) *Service {
	f.t.Helper()
	svc, err := New(context.Background(), cfg, f.nonces, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	svc.now = f.clock.now
	return svc
}

// addGatewayKey writes a gateway signing key modified at modTime.
func (f *fixture) addGatewayKey(name, alg string, modTime time.Time) string {
	f.t.Helper()
	priv, _, kid, err := GenerateKey(alg)
	if err != nil {
		f.t.Fatal(err)
	}
	path := filepath.Join(f.keysDir, name+".pem")
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chtimes(path, modTime, modTime); err != nil {
		f.t.Fatal(err)
	}
	return kid
}

func newSigner(t *testing.T, alg string) crypto.Signer {
	t.Helper()
	if strings.HasPrefix(alg, "RS") {
		return otherRSA(t) // 2048 bits: quicker to make than GenerateKey's 3072
	}
	priv, _, _, err := GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// writeClientKey makes a client key and writes its public half: as a JWKS
// for EC keys, as a PEM public key for RSA keys.
func writeClientKey(t *testing.T, dir, name, alg string) crypto.Signer {
	t.Helper()
	key := newSigner(t, alg)
	if strings.HasPrefix(alg, "ES") {
		jwks, err := jwksDocument([]publicKey{{kid: kidOf(t, key), alg: alg, key: key.Public()}})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name+".jwks.json"), jwks)
		return key
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, name+".pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return key
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// jwksServer publishes keys at a loopback URL and counts the fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []crypto.Signer
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, keys ...crypto.Signer) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		var pub []publicKey
		for _, k := range s.keys {
			kid, _ := Thumbprint(k.Public())
			pub = append(pub, publicKey{kid: kid, key: k.Public()})
		}
		s.mu.Unlock()
		doc, err := jwksDocument(pub)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) publish(keys ...crypto.Signer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

// assertion mints a valid client assertion for a client at the fixture's
// current time.
func (f *fixture) assertion(key crypto.Signer, clientID string) string {
	f.t.Helper()
	a, err := MintAssertion(key, "", "", clientID, testTokenURL, 2*time.Minute, f.clock.now())
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// tokenForm is a valid token request form with the assertion.
func tokenForm(assertion, scope string) url.Values {
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {assertion},
	}
	if scope != "" {
		form.Set("scope", scope)
	}
	return form
}

// accessToken gets an access token through the token endpoint.
func (f *fixture) accessToken(key crypto.Signer, clientID, scope string) string {
	f.t.Helper()
	res, err := f.svc.Token(context.Background(), tokenForm(f.assertion(key, clientID), scope))
	if err != nil {
		f.t.Fatalf("Token: %v", err)
	}
	return res.AccessToken
}

// signed makes a JWT with any header and claims, signed with key (a
// crypto.Signer, or []byte for HMAC, or the none magic).
func signed(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func kidOf(t *testing.T, key crypto.Signer) string {
	t.Helper()
	kid, err := Thumbprint(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return kid
}

// gatewaySigner is the fixture's current gateway signing key.
func (f *fixture) gatewaySigner() signingKey { return f.svc.keys.Load().signer }

// accessClaims are the claims of a valid access token for clientID at the
// fixture's time.
func (f *fixture) accessClaims(clientID, scope string) jwt.MapClaims {
	now := f.clock.now()
	return jwt.MapClaims{
		"iss": testIssuer, "aud": testIssuer, "sub": clientID, "client_id": clientID, "scope": scope,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": rand.Text(),
	}
}

// otherRSA and otherEC are keys nobody registered.
func otherRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func otherEC(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
