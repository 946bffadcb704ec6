package conformance

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/hashicorp/go-retryablehttp"
	"go.yaml.in/yaml/v3"

	"github.com/carebridge/carebridge/adapter/auth"
)

// An Actor is a client system taking part in a run: it has a name, free
// fields scenarios can read (${practiceA.ods}), and a way to authenticate.
type Actor struct {
	Name     string
	ClientID string
	Scope    string
	Fields   map[string]any

	token string        // a fixed bearer token, or ""
	key   crypto.Signer // SMART backend services, or nil
	kid   string
	alg   string
	none  bool // sends no credentials

	mu      sync.Mutex
	current string
	expires time.Time
}

// ActorSpec is one entry of actors.yaml.
type ActorSpec struct {
	ClientID string `yaml:"clientId,omitempty"`
	Key      string `yaml:"key,omitempty"`
	Scope    string `yaml:"scope,omitempty"`
	Token    string `yaml:"token,omitempty"`
	Same     string `yaml:"same,omitempty"`
	// Anonymous sends no credentials.
	Anonymous bool           `yaml:"anonymous,omitempty"`
	Fields    map[string]any `yaml:",inline"`
}

// actorsFile is the layout of actors.yaml.
type actorsFile struct {
	Actors map[string]ActorSpec `yaml:"actors"`
}

// LoadActors reads an actors file (conformance/README.md, "Actors"). Key
// paths are relative to the file.
func LoadActors(file string) (map[string]*Actor, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("actors: %w", err)
	}
	var f actorsFile
	if err := strictDecode(raw, &f); err != nil {
		return nil, fmt.Errorf("actors %s: %w", file, err)
	}
	out := map[string]*Actor{}
	var aliases []string
	for name, spec := range f.Actors {
		if spec.Same != "" {
			aliases = append(aliases, name)
			continue
		}
		if spec.Key != "" && !filepath.IsAbs(spec.Key) {
			spec.Key = filepath.Join(filepath.Dir(file), spec.Key)
		}
		a, err := NewActor(name, spec)
		if err != nil {
			return nil, fmt.Errorf("actors %s: %w", file, err)
		}
		out[name] = a
	}
	for _, name := range aliases {
		target, ok := out[f.Actors[name].Same]
		if !ok {
			return nil, fmt.Errorf("actors %s: %s is the same as %q, which is not an actor", file, name, f.Actors[name].Same)
		}
		out[name] = target
	}
	return out, nil
}

// NewActor makes an actor from its specification: a token, a client id
// and private key file, or anonymous.
func NewActor(name string, spec ActorSpec) (*Actor, error) {
	a := &Actor{Name: name, ClientID: spec.ClientID, Scope: spec.Scope, Fields: map[string]any{}}
	for k, v := range spec.Fields {
		a.Fields[k] = v
	}
	switch {
	case spec.Anonymous:
		a.none = true
	case spec.Token != "":
		a.token = spec.Token
	case spec.Key != "" && spec.ClientID != "":
		pemBytes, err := os.ReadFile(spec.Key)
		if err != nil {
			return nil, fmt.Errorf("actor %s: %w", name, err)
		}
		if a.key, err = auth.ParsePrivateKey(pemBytes); err != nil {
			return nil, fmt.Errorf("actor %s: %s: %w", name, spec.Key, err)
		}
		if a.kid, err = auth.Thumbprint(a.key.Public()); err != nil {
			return nil, fmt.Errorf("actor %s: %w", name, err)
		}
		if a.alg, err = auth.Algorithm(a.key.Public()); err != nil {
			return nil, fmt.Errorf("actor %s: %w", name, err)
		}
	default:
		return nil, fmt.Errorf("actor %s: give a token, a clientId and key, or anonymous: true", name)
	}
	return a, nil
}

// vars is what scenarios see of the actor as ${name.field}.
func (a *Actor) vars() map[string]any {
	m := map[string]any{"name": a.Name, "clientId": a.ClientID}
	for k, v := range a.Fields {
		m[k] = v
	}
	return m
}

// server is what the runner knows of the server's authorisation: its token
// endpoint and published keys, found once.
type server struct {
	target string
	http   *retryablehttp.Client

	once     sync.Once
	tokenURL string // given (--token-url), or found by discover
	jwksURL  string
	onceErr  error
}

// discover reads /.well-known/smart-configuration beside the FHIR base.
func (s *server) discover(ctx context.Context) error {
	s.once.Do(func() {
		var conf struct {
			TokenEndpoint string `json:"token_endpoint"`
			JWKSURI       string `json:"jwks_uri"`
		}
		body, status, err := s.get(ctx, strings.TrimSuffix(s.target, "/")+"/.well-known/smart-configuration")
		if err == nil && status == http.StatusOK {
			err = json.Unmarshal(body, &conf)
		} else if err == nil {
			err = fmt.Errorf("status %d", status)
		}
		if err != nil && s.tokenURL == "" {
			s.onceErr = fmt.Errorf("SMART configuration of %s: %w (give --token-url)", s.target, err)
			return
		}
		if s.tokenURL == "" {
			s.tokenURL = conf.TokenEndpoint
		}
		s.jwksURL = conf.JWKSURI
	})
	return s.onceErr
}

func (s *server) get(ctx context.Context, u string) ([]byte, int, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return body, resp.StatusCode, err
}

// Token gives a current access token: the fixed one, or one fetched from
// the token endpoint and kept until shortly before it expires.
func (a *Actor) Token(ctx context.Context, srv *server) (string, error) {
	switch {
	case a.none:
		return "", nil
	case a.token != "":
		return a.token, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.current != "" && time.Now().Before(a.expires) {
		return a.current, nil
	}
	if err := srv.discover(ctx); err != nil {
		return "", err
	}
	assertion, err := a.assertion(assertionOptions{aud: srv.tokenURL, lifetime: time.Minute})
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {auth.ClientAssertionType},
		"client_assertion":      {assertion},
	}
	if a.Scope != "" {
		form.Set("scope", a.Scope)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, srv.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("actor %s: token request: %w", a.Name, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := srv.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("actor %s: token request: %w", a.Name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("actor %s: token endpoint %s answered %d: %s", a.Name, srv.tokenURL, resp.StatusCode, shorten(string(body), 300))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("actor %s: token endpoint gave no access_token: %s", a.Name, shorten(string(body), 300))
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Minute
	}
	a.current, a.expires = tok.AccessToken, time.Now().Add(life*3/4)
	return a.current, nil
}

// assertionOptions shape a client assertion, for the token endpoint tests.
type assertionOptions struct {
	aud      string
	iss      string
	jti      string
	lifetime time.Duration
	exp      *time.Duration // from now, overriding lifetime
	signer   *Actor
}

// assertion makes a client assertion (RFC 7523) for the actor.
func (a *Actor) assertion(o assertionOptions) (string, error) {
	signer := a
	if o.signer != nil {
		signer = o.signer
	}
	if signer.key == nil {
		return "", fmt.Errorf("actor %s has no private key", signer.Name)
	}
	iss := a.ClientID
	if o.iss != "" {
		iss = o.iss
	}
	now := time.Now()
	exp := now.Add(o.lifetime)
	if o.exp != nil {
		exp = now.Add(*o.exp)
	}
	jti := o.jti
	if jti == "" {
		jti = uuid.NewString()
	}
	claims := jwt.MapClaims{"iss": iss, "sub": iss, "aud": o.aud, "iat": now.Unix(), "exp": exp.Unix(), "jti": jti}
	return signer.sign("JWT", claims)
}

// sign signs claims with the actor's client key.
func (a *Actor) sign(typ string, claims jwt.Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.GetSigningMethod(a.alg), claims)
	t.Header["kid"] = a.kid
	t.Header["typ"] = typ
	s, err := t.SignedString(a.key)
	if err != nil {
		return "", fmt.Errorf("actor %s: sign: %w", a.Name, err)
	}
	return s, nil
}

// parseAssertionOptions reads assertion()'s options: aud=, iss=, jti=,
// lifetime=SECONDS, exp=SECONDS (from now), signer=ACTOR.
func parseAssertionOptions(args []string, actors map[string]*Actor, tokenURL string) (assertionOptions, error) {
	o := assertionOptions{aud: tokenURL, lifetime: time.Minute}
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			return o, fmt.Errorf("option %q is not NAME=VALUE", arg)
		}
		switch k {
		case "aud":
			o.aud = v
		case "iss":
			o.iss = v
		case "jti":
			o.jti = v
		case "lifetime", "exp":
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, fmt.Errorf("%s=%q: give seconds", k, v)
			}
			d := time.Duration(n) * time.Second
			if k == "lifetime" {
				o.lifetime = d
			} else {
				o.exp = &d
			}
		case "signer":
			s, ok := actors[v]
			if !ok {
				return o, fmt.Errorf("signer=%s: no such actor", v)
			}
			o.signer = s
		default:
			return o, fmt.Errorf("unknown option %q (aud, iss, jti, lifetime, exp, signer)", k)
		}
	}
	return o, nil
}

// forgeToken makes a token the server must refuse, of the given kind
// (conformance/README.md, jwt()).
func forgeToken(ctx context.Context, kind string, a *Actor, srv *server) (string, error) {
	if kind == "garbage" {
		return "not-a-jwt." + uuid.NewString(), nil
	}
	real, err := a.Token(ctx, srv)
	if err != nil {
		return "", err
	}
	parts := strings.Split(real, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("actor %s's token is not a JWS", a.Name)
	}
	b64 := base64.RawURLEncoding
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("actor %s's token payload: %w", a.Name, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("actor %s's token payload: %w", a.Name, err)
	}
	header, _ := b64.DecodeString(parts[0])
	var hdr map[string]any
	_ = json.Unmarshal(header, &hdr)
	encode := func(v any) string { b, _ := json.Marshal(v); return b64.EncodeToString(b) }
	switch kind {
	case "alg-none":
		hdr["alg"] = "none"
		return encode(hdr) + "." + parts[1] + ".", nil
	case "tampered":
		claims["scope"] = "system/*.cruds system/AuditEvent.rs"
		if exp, ok := claims["exp"].(float64); ok {
			claims["exp"] = exp + 3600
		}
		return parts[0] + "." + encode(claims) + "." + parts[2], nil
	case "hs256":
		if err := srv.discover(ctx); err != nil {
			return "", err
		}
		jwks := srv.jwksURL
		if jwks == "" {
			return "", errors.New("the server publishes no jwks_uri")
		}
		key, status, err := srv.get(ctx, jwks)
		if err != nil || status != http.StatusOK {
			return "", fmt.Errorf("JWKS %s: status %d: %v", jwks, status, err)
		}
		t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
		t.Header["kid"] = hdr["kid"]
		t.Header["typ"] = hdr["typ"]
		return t.SignedString(key)
	case "self-signed", "expired":
		if a.key == nil {
			return "", fmt.Errorf("actor %s has no private key to sign with", a.Name)
		}
		if kind == "expired" {
			now := time.Now()
			claims["iat"], claims["nbf"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		}
		typ, _ := hdr["typ"].(string)
		return a.sign(typ, jwt.MapClaims(claims))
	}
	return "", fmt.Errorf("unknown kind %q (alg-none, hs256, tampered, self-signed, expired, garbage)", kind)
}

// marshalActors writes an actors file.
func marshalActors(actors map[string]ActorSpec) ([]byte, error) {
	return yaml.Marshal(actorsFile{Actors: actors})
}
