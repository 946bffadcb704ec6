package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/carebridge/carebridge/adapter/auth"
)

// runCommand runs a carebridge command line and returns its stdout.
func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, noEnv, &stdout, &stderr)
	return stdout.String(), err
}

func TestKeysGenerateWritesAKeyPairAndPrintsItsKid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	out, err := runCommand(t, "keys", "generate", "--alg", "ES256", "--out", dir, "--name", "gateway-1")
	if err != nil {
		t.Fatal(err)
	}
	kid := strings.TrimSpace(out)
	info, err := os.Stat(filepath.Join(dir, "gateway-1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("private key mode %o, want 600", perm)
	}
	priv, err := os.ReadFile(filepath.Join(dir, "gateway-1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := auth.Thumbprint(key.Public()); got != kid {
		t.Errorf("printed kid %q, want the key's thumbprint %q", kid, got)
	}
	jwks, err := os.ReadFile(filepath.Join(dir, "gateway-1.jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(jwks), kid) || strings.Contains(string(jwks), `"d"`) {
		t.Errorf("public JWKS lacks the kid or holds the private part:\n%s", jwks)
	}
	if _, err := runCommand(t, "keys", "generate", "--out", dir, "--name", "gateway-1"); err == nil {
		t.Error("keys generate overwrote an existing key")
	}
	if _, err := runCommand(t, "keys", "generate", "--alg", "HS256", "--out", dir); err == nil {
		t.Error("keys generate made an HS256 key")
	}
}

// tokenGateway is a gateway's auth service with a generated key, one client
// (gp-a12345, allowed system/Task.rs) whose private key is at clientKey,
// and its token endpoint served on loopback.
type tokenGateway struct {
	svc       *auth.Service
	clientKey string
	tokenURL  string
}

func newTokenGateway(t *testing.T) *tokenGateway {
	t.Helper()
	dir := t.TempDir()
	keysDir := filepath.Join(dir, "gateway")
	for _, args := range [][]string{
		{"keys", "generate", "--out", keysDir, "--name", "gateway-1"},
		{"keys", "generate", "--alg", "RS256", "--out", dir, "--name", "gp-a12345"},
	} {
		if _, err := runCommand(t, args...); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewUnstartedServer(nil)
	g := &tokenGateway{clientKey: filepath.Join(dir, "gp-a12345.pem"), tokenURL: "http://" + srv.Listener.Addr().String() + "/auth/token"}
	svc, err := auth.New(context.Background(), auth.Config{
		Issuer:   "http://" + srv.Listener.Addr().String() + "/fhir",
		TokenURL: g.tokenURL,
		KeysDir:  keysDir,
		Clients: []auth.Client{{ID: "gp-a12345", ODS: "A12345", Side: auth.SidePrimary, Profile: "uk-core-gp",
			Scopes: []string{"system/Task.rs"}, Keys: []string{filepath.Join(dir, "gp-a12345.jwks.json")}}},
	}, &onceNonces{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	g.svc = svc
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/auth/token" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		res, err := svc.Token(r.Context(), r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		if oerr, ok := errors.AsType[*auth.OAuthError](err); ok {
			w.WriteHeader(oerr.Status)
			_ = json.NewEncoder(w).Encode(oerr)
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return g
}

// onceNonces is a NonceStore in memory.
type onceNonces struct{ used sync.Map }

func (n *onceNonces) UseNonce(_ context.Context, key string, _ time.Time) (bool, error) {
	_, seen := n.used.LoadOrStore(key, true)
	return !seen, nil
}

func TestTokenAssertionIsAcceptedByTheTokenEndpoint(t *testing.T) {
	g := newTokenGateway(t)
	out, err := runCommand(t, "token", "assertion", "--client-id", "gp-a12345", "--key", g.clientKey, "--aud", g.tokenURL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.svc.Token(context.Background(), map[string][]string{
		"grant_type": {"client_credentials"}, "client_assertion_type": {auth.ClientAssertionType},
		"client_assertion": {strings.TrimSpace(out)}, "scope": {"system/Task.rs"},
	})
	if err != nil {
		t.Fatalf("the token endpoint refuses the printed assertion: %v", err)
	}
	if _, err := g.svc.Authenticate(context.Background(), res.AccessToken); err != nil {
		t.Fatal(err)
	}
}

func TestTokenAccessPrintsOnlyTheAccessToken(t *testing.T) {
	g := newTokenGateway(t)
	target := strings.TrimSuffix(g.tokenURL, "/auth/token")
	out, err := runCommand(t, "token", "access", "--target", target+"/fhir", "--client-id", "gp-a12345", "--key", g.clientKey, "--scope", "system/Task.rs")
	if err != nil {
		t.Fatal(err)
	}
	token, rest, _ := strings.Cut(out, "\n")
	if rest != "" || strings.Count(token, ".") != 2 {
		t.Fatalf("stdout %q is not one JWT on one line", out)
	}
	p, err := g.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("the printed token is refused: %v", err)
	}
	if p.ClientID != "gp-a12345" || p.Scopes.String() != "system/Task.rs" {
		t.Errorf("principal %+v", p)
	}

	out, err = runCommand(t, "token", "access", "--target", target, "--client-id", "gp-a12345", "--key", g.clientKey, "--scope", "system/Patient.rs")
	if err == nil || !strings.Contains(err.Error(), "invalid_scope") || out != "" {
		t.Errorf("a scope the client is not allowed: stdout %q, error %v; want nothing printed and invalid_scope", out, err)
	}
}

func TestAuthConfigComesFromTheFileAndFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "carebridge.yaml")
	yaml := `auth:
  issuer: https://carebridge.example.nhs.uk/fhir
  tokenLifetime: 10m
  clients:
    - id: gp-a12345
      ods: A12345
      side: primary
      profile: uk-core-gp
      scopes: [system/Task.cruds, system/Patient.rs]
      keys: [/etc/carebridge/clients/gp-a12345.jwks.json]
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addSettingFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--auth-keys-dir", "/var/lib/carebridge/keys"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Auth
	if a.Issuer != "https://carebridge.example.nhs.uk/fhir" || a.KeysDir != "/var/lib/carebridge/keys" || a.TokenLifetime != 10*time.Minute {
		t.Errorf("auth config %+v: want issuer and lifetime from the file, keys dir from the flag", a)
	}
	if len(a.Clients) != 1 || a.Clients[0].Side != "primary" || len(a.Clients[0].Scopes) != 2 {
		t.Errorf("clients %+v", a.Clients)
	}
}
