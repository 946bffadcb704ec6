package auth

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// NonceStore records once-only values, such as the jti of a client
// assertion, across every gateway sharing a database. The store implements
// it.
type NonceStore interface {
	// UseNonce records key as used until until and reports whether it was
	// new.
	UseNonce(ctx context.Context, key string, until time.Time) (bool, error)
}

// Principal is who a valid access token speaks for.
type Principal struct {
	ClientID string
	ODS      string // the client's organisation
	Side     string // SidePrimary or SideSecondary
	Profile  string // mapping profile its writes are read with
	Scopes   Scopes // what the token grants, within what the client is allowed
	Operator bool   // the client may run gateway-wide operations
}

// Service verifies access tokens and issues them. It is safe for
// concurrent use.
type Service struct {
	cfg     Config
	nonces  NonceStore
	log     *slog.Logger
	now     func() time.Time
	clients map[string]*client
	issuers map[string]*trustedIssuer

	keys atomic.Pointer[keyState] // replaced whole by Reload

	reloadMu   sync.Mutex
	reloadedAt time.Time // when a Reload made by an unknown kid last ran
}

// client is a configured client with its allowed scopes parsed and where
// its keys come from.
type client struct {
	Client
	allowed Scopes
	remote  *remoteKeys // when it publishes a JWKS
}

// trustedIssuer is an external authorisation server, and its keys when
// they are published at a URL.
type trustedIssuer struct {
	cfg    Issuer
	remote *remoteKeys
}

// keyState is what Reload reads from files: the gateway's keys, the keys
// of clients and trusted issuers given as files.
type keyState struct {
	own     keySet // every gateway key, to verify
	signer  signingKey
	jwks    []byte
	clients map[string]keySet // by client id
	issuers map[string]keySet // by issuer
}

// signingKey is the gateway key tokens are signed with.
type signingKey struct {
	kid, alg string
	key      crypto.Signer
}

// New checks cfg (unique client ids, known sides, scopes that parse, key
// sets that load) and loads the keys. nonces keeps client assertion ids.
func New(ctx context.Context, cfg Config, nonces NonceStore, log *slog.Logger) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if nonces == nil {
		return nil, errors.New("auth needs a nonce store to refuse replayed client assertions")
	}
	s := &Service{cfg: cfg, nonces: nonces, log: log, now: time.Now,
		clients: map[string]*client{}, issuers: map[string]*trustedIssuer{}}
	httpClient := newKeySetClient()
	now := func() time.Time { return s.now() }
	for _, cl := range cfg.Clients {
		c := &client{Client: cl}
		c.allowed, _ = ParseScopes(strings.Join(cl.Scopes, " ")) // checked by withDefaults
		if cl.JWKSURL != "" {
			c.remote = newRemoteKeys(cl.JWKSURL, httpClient, now, log)
		}
		s.clients[cl.ID] = c
	}
	for _, ti := range cfg.TrustedIssuers {
		t := &trustedIssuer{cfg: ti}
		if ti.JWKSURL != "" {
			t.remote = newRemoteKeys(ti.JWKSURL, httpClient, now, log)
		}
		s.issuers[ti.Issuer] = t
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the gateway's keys from KeysDir and the client and issuer
// key files again. On error the keys in use stay as they were.
//
// Rotation without downtime: add a key file to KeysDir on every gateway
// (each publishes it at once and, being the newest, signs with it); remove
// the old file once the tokens it signed have expired (TokenLifetime).
func (s *Service) Reload(ctx context.Context) error {
	st := &keyState{clients: map[string]keySet{}, issuers: map[string]keySet{}}
	var err error
	if st.own, st.signer, err = loadSigningKeys(s.cfg.KeysDir); err != nil {
		return err
	}
	published := make([]publicKey, 0, len(st.own))
	for _, k := range st.own {
		published = append(published, k)
	}
	slices.SortFunc(published, func(a, b publicKey) int { return strings.Compare(a.kid, b.kid) })
	if st.jwks, err = jwksDocument(published); err != nil {
		return err
	}
	for _, c := range s.cfg.Clients {
		if len(c.Keys) == 0 {
			continue
		}
		if st.clients[c.ID], err = loadKeyFiles(c.Keys); err != nil {
			return fmt.Errorf("auth client %q: %w", c.ID, err)
		}
	}
	for _, ti := range s.cfg.TrustedIssuers {
		if ti.JWKSFile == "" {
			continue
		}
		if st.issuers[ti.Issuer], err = loadKeyFiles([]string{ti.JWKSFile}); err != nil {
			return fmt.Errorf("auth trusted issuer %s: %w", ti.Issuer, err)
		}
	}
	if prev := s.keys.Swap(st); prev == nil || !bytes.Equal(prev.jwks, st.jwks) || prev.signer.kid != st.signer.kid {
		s.log.InfoContext(ctx, "gateway signing keys loaded", "signing_kid", st.signer.kid, "gateway_keys", len(st.own))
	}
	return nil
}

// Run reloads the keys every ReloadInterval until ctx ends, so that a key
// file added to KeysDir starts signing and a removed one stops verifying
// without a restart. A failed reload is logged and the keys in use stay.
func (s *Service) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.ReloadInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := s.Reload(ctx); err != nil {
				s.log.WarnContext(ctx, "reload of authentication keys failed; keeping the keys in use", "error", err)
			}
		}
	}
}

// reloadForUnknownKid runs Reload when a token names a kid no loaded key
// has (another gateway may have rotated first), at most once per
// minRefreshInterval.
func (s *Service) reloadForUnknownKid(ctx context.Context) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if !s.reloadedAt.IsZero() && s.now().Sub(s.reloadedAt) < minRefreshInterval {
		return
	}
	s.reloadedAt = s.now()
	if err := s.Reload(ctx); err != nil {
		s.log.WarnContext(ctx, "reload of authentication keys failed; keeping the keys in use", "error", err)
	}
}

// loadSigningKeys reads every *.pem file of dir as a private key. The
// newest file (by modification time, then name) signs.
func loadSigningKeys(dir string) (keySet, signingKey, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.pem"))
	if err != nil {
		return nil, signingKey{}, fmt.Errorf("auth keys directory %s: %w", dir, err)
	}
	type loaded struct {
		signingKey
		name    string
		modTime time.Time
	}
	var all []loaded
	own := keySet{}
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			return nil, signingKey{}, fmt.Errorf("auth key %s: %w", f, err)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, signingKey{}, fmt.Errorf("auth key: %w", err)
		}
		signer, err := ParsePrivateKey(data)
		if err != nil {
			return nil, signingKey{}, fmt.Errorf("auth key %s: %w", f, err)
		}
		kid, err := Thumbprint(signer.Public())
		if err != nil {
			return nil, signingKey{}, fmt.Errorf("auth key %s: %w", f, err)
		}
		alg, _ := defaultAlg(signer.Public()) // ParsePrivateKey checked the key type
		own[kid] = publicKey{kid: kid, alg: alg, key: signer.Public()}
		all = append(all, loaded{signingKey{kid, alg, signer}, filepath.Base(f), info.ModTime()})
	}
	if len(all) == 0 {
		return nil, signingKey{}, fmt.Errorf("auth keys directory %s holds no *.pem key: make one with `carebridge keys generate --out %s`", dir, dir)
	}
	newest := slices.MaxFunc(all, func(a, b loaded) int {
		if c := a.modTime.Compare(b.modTime); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return own, newest.signingKey, nil
}

// loadKeyFiles reads public key files (PEM, JWK or JWKS) into one set.
func loadKeyFiles(files []string) (keySet, error) {
	all := keySet{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
		keys, err := parsePublicKeys(data)
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", f, err)
		}
		for kid, k := range keys {
			all[kid] = k
		}
	}
	return all, nil
}

// TokenURL is the token endpoint's public URL.
func (s *Service) TokenURL() string { return s.cfg.TokenURL }

// JWKS is the gateway's public keys as a JWKS document, for /auth/jwks.
func (s *Service) JWKS() []byte { return bytes.Clone(s.keys.Load().jwks) }

// SMARTConfiguration is the /.well-known/smart-configuration document: the
// token endpoint and how to authenticate at it.
func (s *Service) SMARTConfiguration() []byte {
	doc := map[string]any{
		"issuer":                                s.cfg.Issuer,
		"jwks_uri":                              s.cfg.JWKSURL,
		"token_endpoint":                        s.cfg.TokenURL,
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": acceptedAlgs,
		"scopes_supported": []string{"system/*.cruds", "system/*.rs", "system/*.read", "system/*.write"},
		"capabilities":     []string{"client-confidential-asymmetric", "permission-v1", "permission-v2"},
	}
	data, _ := json.MarshalIndent(doc, "", "  ") // strings and string slices always marshal
	return data
}
