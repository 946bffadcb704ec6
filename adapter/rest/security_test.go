package rest_test

import (
	"context"
	"crypto"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/auth"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/rest"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// The NHS numbers of the two practices' patients: a response to the other
// practice must never hold them.
const (
	nhsA = "9434765919"
	nhsB = "9434765870"
)

// secured is a gateway with authentication on, served on loopback, and
// the keys of its clients.
type secured struct {
	*client
	keys    string // the clients' private keys: keys/ID.pem
	gateway crypto.Signer
	kid     string
	issuer  string
}

// securedClients are the clients of the secured gateway.
var securedClients = []auth.Client{
	{ID: "gp-a", ODS: "A12345", Side: auth.SidePrimary, Profile: "uk-core-gp", Scopes: []string{"system/*.cruds"}},
	{ID: "gp-b", ODS: "B23456", Side: auth.SidePrimary, Profile: "uk-core-gp", Scopes: []string{"system/*.cruds"}},
	{ID: "trust", ODS: "RXX", Side: auth.SideSecondary, Profile: "uk-core-trust", Scopes: []string{"system/*.cruds"}},
	{ID: "reader", ODS: "B23456", Side: auth.SidePrimary, Profile: "uk-core-gp", Scopes: []string{"system/Patient.rs"}},
	{ID: "auditor", ODS: "X26", Side: auth.SideSecondary, Profile: "uk-core-trust", Scopes: []string{"system/AuditEvent.rs"}, Operator: true},
}

// newSecured starts a gateway on st with authentication on: a signing key
// of its own, and a key for each of securedClients.
func newSecured(t *testing.T, st store.Store, cfg rest.Config) *secured {
	t.Helper()
	dir := t.TempDir()
	keys, clients := filepath.Join(dir, "gateway"), filepath.Join(dir, "clients")
	s := &secured{keys: clients}
	writeKey(t, keys, "gateway")
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	s.issuer = "http://" + ts.Listener.Addr().String() + "/fhir"
	ac := auth.Config{Issuer: s.issuer, KeysDir: keys}
	orgs := map[string]string{}
	for _, c := range securedClients {
		writeKey(t, clients, c.ID)
		c.Keys = []string{filepath.Join(clients, c.ID+".jwks.json")}
		ac.Clients = append(ac.Clients, c)
		orgs[c.ID] = c.ODS
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := auth.New(context.Background(), ac, st, log)
	if err != nil {
		t.Fatal(err)
	}
	maps := shippedMappings(t)
	loc, _ := time.LoadLocation("Europe/London")
	rules, err := healthcheck.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	gw := adapter.New(st, adapter.Config{Location: loc, DefaultCount: 20, MaxCount: 100, Mappings: maps, ClientOrgs: orgs,
		HealthCheck: &healthcheck.Config{Rules: rules, Location: loc, CodeSetsVersion: maps.CodeSetsVersion()}})
	cfg.Auth, cfg.Version, cfg.TokenURL = svc, "test", svc.TokenURL()
	cfg.ProfileSources = map[string]string{}
	for _, id := range maps.IDs() {
		m, _ := maps.Mapper(id)
		cfg.ProfileSources[id] = m.Profile().Sources[0]
	}
	reg := prometheus.NewRegistry()
	srv, err := rest.NewServer(cfg, gw, log, reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	s.client = &client{t: t, base: ts.URL + "/fhir", root: ts.URL}
	s.gateway = readKey(t, filepath.Join(keys, "gateway.pem"))
	s.kid = thumbprint(t, s.gateway)
	return s
}

func writeKey(t *testing.T, dir, name string) {
	t.Helper()
	private, public, _, err := auth.GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for file, data := range map[string][]byte{name + ".pem": private, name + ".jwks.json": public} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func readKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := auth.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func thumbprint(t *testing.T, k crypto.Signer) string {
	t.Helper()
	kid, err := auth.Thumbprint(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return kid
}

// assertion is a client assertion of client id, signed with its key.
func (s *secured) assertion(id string, lifetime time.Duration) string {
	s.t.Helper()
	a, err := auth.MintAssertion(readKey(s.t, filepath.Join(s.keys, id+".pem")), "", "", id, s.root+"/auth/token", lifetime, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// tokenRequest posts a client_credentials request with assertion.
func (s *secured) tokenRequest(form url.Values) response {
	s.t.Helper()
	return s.do(http.MethodPost, "/auth/token", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

func credentials(assertion, scope string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {auth.ClientAssertionType}, "client_assertion": {assertion}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// token gets an access token for client id from the token endpoint.
func (s *secured) token(id string) string {
	s.t.Helper()
	r := s.tokenRequest(credentials(s.assertion(id, time.Minute), "")).mustStatus(s.t, http.StatusOK)
	var tok auth.TokenResponse
	if err := json.Unmarshal(r.body, &tok); err != nil || tok.AccessToken == "" {
		s.t.Fatalf("token response %s: %v", r.body, err)
	}
	return tok.AccessToken
}

// forge signs claims as an access token with key (the gateway's when
// nil) under kid, with method m.
func (s *secured) forge(m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	s.t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"], tok.Header["typ"] = kid, "at+jwt"
	out, err := tok.SignedString(key)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// claims are valid access token claims for client id, changed by edits.
func (s *secured) claims(id string, edit func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": s.issuer, "aud": s.issuer, "sub": id, "client_id": id, "scope": "system/*.cruds",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": uuid.NewString()}
	if edit != nil {
		edit(c)
	}
	return c
}

// as sends a request with bearer token tok.
func (s *secured) as(tok, method, path string, body any, headers ...string) response {
	s.t.Helper()
	return s.do(method, path, body, append([]string{"Authorization", "Bearer " + tok}, headers...)...)
}

// securityCase is one case of the negative matrix: a request, and the
// refusal it must get.
type securityCase struct {
	name   string
	send   func() response
	status int
	code   string // the OperationOutcome issue code, or the OAuth error
}

// TestSecurityNegativeMatrix sends every request the gateway must refuse,
// over real HTTP with real tokens, as clients of two GP practices, a trust
// and clients with narrow scopes, and checks for each the status, the
// OperationOutcome (or OAuth error) and that the body holds nothing of the
// other practice's patient.
func TestSecurityNegativeMatrix(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := newSecured(t, b.open(t), rest.Config{MaxBodyBytes: 64 << 10})
			gpA, gpB, trust := s.token("gp-a"), s.token("gp-b"), s.token("trust")
			patient := func(nhs, practice string) string {
				return `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + nhs + `"}],
					"birthDate":"1980-01-02","generalPractitioner":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"` + practice + `"}}]}`
			}
			pa := s.as(gpA, http.MethodPost, "Patient", patient(nhsA, "A12345")).mustStatus(t, http.StatusCreated).json(t)["id"].(string)
			s.as(gpB, http.MethodPost, "Patient", patient(nhsB, "B23456")).mustStatus(t, http.StatusCreated)
			cond := s.as(gpA, http.MethodPost, "Condition", `{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"58214004"}]},
				"subject":{"reference":"Patient/`+pa+`"}}`).mustStatus(t, http.StatusCreated).json(t)["id"].(string)
			task := s.as(trust, http.MethodPost, "Task", `{"resourceType":"Task","status":"requested","intent":"order",
				"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A12345"}},
				"requester":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RXX"}},
				"for":{"reference":"Patient/`+pa+`"}}`).mustStatus(t, http.StatusCreated).json(t)["id"].(string)

			hs256 := jwt.SigningMethodHS256
			jwks := s.do(http.MethodGet, "/auth/jwks", nil).mustStatus(t, http.StatusOK).body
			other := readKey(t, filepath.Join(s.keys, "gp-b.pem"))
			valid := s.forge(jwt.SigningMethodES256, s.gateway, s.kid, s.claims("gp-b", nil))
			parts := strings.Split(valid, ".")
			get := func(tok, path string) func() response {
				return func() response { return s.as(tok, http.MethodGet, path, nil) }
			}
			bearer := func(claims func(jwt.MapClaims)) func() response {
				return get(s.forge(jwt.SigningMethodES256, s.gateway, s.kid, s.claims("gp-b", claims)), "Patient")
			}
			replayed := s.assertion("gp-b", time.Minute)
			s.tokenRequest(credentials(replayed, "")).mustStatus(t, http.StatusOK)
			reader := s.token("reader")

			cases := []securityCase{
				// Bearer tokens.
				{"no token", func() response { return s.do(http.MethodGet, "Patient", nil) }, 401, "login"},
				{"basic credentials", func() response { return s.do(http.MethodGet, "Patient", nil, "Authorization", "Basic Z3A6Yg==") }, 401, "login"},
				{"not a JWT", get("not-a-token", "Patient"), 401, "login"},
				{"expired", bearer(func(c jwt.MapClaims) {
					c["iat"], c["nbf"], c["exp"] = time.Now().Add(-10*time.Minute).Unix(), time.Now().Add(-10*time.Minute).Unix(), time.Now().Add(-5*time.Minute).Unix()
				}), 401, "login"},
				{"not yet valid", bearer(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(3 * time.Minute).Unix() }), 401, "login"},
				{"issued in the future", bearer(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(3 * time.Minute).Unix() }), 401, "login"},
				{"no expiry", bearer(func(c jwt.MapClaims) { delete(c, "exp") }), 401, "login"},
				{"too long a lifetime", bearer(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(3 * time.Hour).Unix() }), 401, "login"},
				{"wrong audience", bearer(func(c jwt.MapClaims) { c["aud"] = "https://elsewhere.example/fhir" }), 401, "login"},
				{"wrong issuer", bearer(func(c jwt.MapClaims) { c["iss"] = "https://elsewhere.example/fhir" }), 401, "login"},
				{"unknown client", bearer(func(c jwt.MapClaims) { c["sub"], c["client_id"] = "nobody", "nobody" }), 401, "login"},
				{"alg none", get(s.forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, s.kid, s.claims("gp-b", nil)), "Patient"), 401, "login"},
				{"HS256 keyed with the public JWKS", get(s.forge(hs256, jwks, s.kid, s.claims("gp-b", nil)), "Patient"), 401, "login"},
				{"unknown kid", get(s.forge(jwt.SigningMethodES256, s.gateway, "no-such-key", s.claims("gp-b", nil)), "Patient"), 401, "login"},
				{"signed with a client's key under the gateway's kid", get(s.forge(jwt.SigningMethodES256, other, s.kid, s.claims("gp-b", nil)), "Patient"), 401, "login"},
				{"tampered signature", get(parts[0]+"."+parts[1]+"."+strings.ToUpper(parts[2][:8])+parts[2][8:], "Patient"), 401, "login"},
				{"tampered payload", get(parts[0]+"."+strings.TrimRight(parts[1], "=")+"e30."+parts[2], "Patient"), 401, "login"},
				{"a client assertion as a bearer token", get(s.assertion("gp-b", time.Minute), "Patient"), 401, "login"},
				// The token endpoint.
				{"replayed jti", func() response { return s.tokenRequest(credentials(replayed, "")) }, 401, "invalid_client"},
				{"assertion lifetime too long", func() response {
					key := readKey(t, filepath.Join(s.keys, "gp-b.pem"))
					now := time.Now()
					long := jwt.MapClaims{"iss": "gp-b", "sub": "gp-b", "aud": s.root + "/auth/token", "jti": uuid.NewString(),
						"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
					tok := jwt.NewWithClaims(jwt.SigningMethodES256, long)
					tok.Header["kid"] = thumbprint(t, key)
					a, err := tok.SignedString(key)
					if err != nil {
						t.Fatal(err)
					}
					return s.tokenRequest(credentials(a, ""))
				}, 401, "invalid_client"},
				{"scope not allowed", func() response {
					return s.tokenRequest(credentials(s.assertion("reader", time.Minute), "system/Task.rs"))
				}, 400, "invalid_scope"},
				{"wrong grant type", func() response {
					f := credentials(s.assertion("gp-b", time.Minute), "")
					f.Set("grant_type", "password")
					return s.tokenRequest(f)
				}, 400, "unsupported_grant_type"},
				{"assertion signed by another client's key", func() response {
					a, err := auth.MintAssertion(other, "", "", "gp-a", s.root+"/auth/token", time.Minute, time.Now())
					if err != nil {
						t.Fatal(err)
					}
					return s.tokenRequest(credentials(a, ""))
				}, 401, "invalid_client"},
				// Scopes.
				{"search without the scope", get(reader, "Task"), 403, "forbidden"},
				{"create without the scope", func() response {
					return s.as(reader, http.MethodPost, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`)
				}, 403, "forbidden"},
				{"Bundle entry without the scope", func() response {
					return s.as(reader, http.MethodPost, "", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},"request":{"method":"POST","url":"Observation"}}]}`)
				}, 403, "forbidden"},
				{"the audit trail without the auditor scope", get(gpB, "AuditEvent"), 403, "forbidden"},
				{"a gateway-wide operation without being an operator", get(gpB, "$outbox"), 403, "forbidden"},
				// Another practice's data.
				{"cross-practice read", get(gpB, "Patient/"+pa), 404, "not-found"},
				{"cross-practice vread", get(gpB, "Patient/"+pa+"/_history/1"), 404, "not-found"},
				{"cross-practice instance history", get(gpB, "Patient/"+pa+"/_history"), 404, "not-found"},
				{"cross-practice Task read", get(gpB, "Task/"+task), 404, "not-found"},
				{"cross-practice $health-check", get(gpB, "Patient/"+pa+"/$health-check"), 404, "not-found"},
				{"_include", get(gpB, "Condition?_include=Condition:subject"), 400, "not-supported"},
				{"another practice's change feed", get(gpB, "Task/$changes?owner=https://fhir.nhs.uk/Id/ods-organization-code|A12345"), 403, "forbidden"},
				{"cross-practice Task update", func() response {
					return s.as(gpB, http.MethodPut, "Task/"+task, `{"resourceType":"Task","id":"`+task+`","status":"accepted","intent":"order",
						"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A12345"}},
						"requester":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RXX"}}}`)
				}, 403, "forbidden"},
				{"cross-practice Patient overwrite", func() response {
					return s.as(gpB, http.MethodPut, "Patient/"+pa, `{"resourceType":"Patient","id":"`+pa+`"}`)
				}, 403, "forbidden"},
				{"cross-practice delete", func() response { return s.as(gpB, http.MethodDelete, "Condition/"+cond, nil) }, 403, "forbidden"},
				{"forged meta.source", func() response {
					return s.as(gpB, http.MethodPost, "Observation", `{"resourceType":"Observation","meta":{"source":"urn:carebridge:source:uk-core-trust"},"status":"final","code":{"text":"x"}}`)
				}, 403, "forbidden"},
				{"a Task in another organisation's name", func() response {
					return s.as(gpB, http.MethodPost, "Task", `{"resourceType":"Task","status":"requested","intent":"order",
						"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B23456"}},
						"requester":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A12345"}}}`)
				}, 403, "forbidden"},
				{"a Subscription to another practice's Tasks", func() response {
					return s.as(gpB, http.MethodPost, "Subscription", `{"resourceType":"Subscription","status":"requested","reason":"x",
						"criteria":"Task?owner=https://fhir.nhs.uk/Id/ods-organization-code|A12345","channel":{"type":"rest-hook","endpoint":"https://gp-b.example/hook"}}`)
				}, 403, "forbidden"},
				// Limits.
				{"over-size body", func() response {
					return s.as(gpB, http.MethodPost, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"`+strings.Repeat("x", 70<<10)+`"}}`)
				}, 413, "too-long"},
			}
			for _, c := range cases {
				r := c.send()
				if r.status != c.status {
					t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.body)
					continue
				}
				if strings.HasPrefix(c.code, "invalid_") || strings.HasPrefix(c.code, "unsupported_") {
					var oe struct{ Error, ErrorDescription string }
					if err := json.Unmarshal(r.body, &oe); err != nil || oe.Error != c.code {
						t.Errorf("%s: OAuth error %s, want %s", c.name, r.body, c.code)
					}
				} else if is := r.issues(t); len(is) == 0 || is[0].Code != c.code || is[0].Severity != "error" {
					t.Errorf("%s: issues %+v, want one with code %s", c.name, is, c.code)
				}
				if c.code == "login" && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("%s: WWW-Authenticate %q", c.name, r.header.Get("WWW-Authenticate"))
				}
				if strings.Contains(string(r.body), nhsA) || strings.Contains(string(r.body), pa) && !strings.Contains(c.name, "cross-practice") {
					t.Errorf("%s: the body holds the other practice's patient: %s", c.name, r.body)
				}
			}

			// Searches, counts, pages and history: the other practice's
			// patient is in none of them.
			for _, path := range []string{
				"Patient", "Patient?_count=1", "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhsA,
				"Patient?_summary=count", "Patient/_history", "Condition", "Task", "Task?owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|A12345",
			} {
				r := s.as(gpB, http.MethodGet, path, nil).mustStatus(t, http.StatusOK)
				body := r.json(t)
				want := 0
				if strings.HasPrefix(path, "Patient") && !strings.Contains(path, nhsA) {
					want = 1 // its own patient
				}
				if total, ok := body["total"].(float64); ok && int(total) != want {
					t.Errorf("GET %s as the other practice: total %v, want %d", path, total, want)
				}
				for next := r; ; {
					// The self link repeats the query; the entries must not
					// hold the patient.
					entries, _ := json.Marshal(next.json(t)["entry"])
					if strings.Contains(string(entries), nhsA) || strings.Contains(string(entries), pa) {
						t.Errorf("GET %s as the other practice holds its patient: %s", path, next.body)
					}
					link := nextLink(next.json(t))
					if link == "" {
						break
					}
					next = s.as(gpB, http.MethodGet, "/"+strings.SplitN(link, "/", 4)[3], nil).mustStatus(t, http.StatusOK)
				}
			}
			// The CapabilityStatement is public, and names the token endpoint.
			if md := s.do(http.MethodGet, "metadata", nil).mustStatus(t, http.StatusOK); !strings.Contains(string(md.body), `"valueUri":"`+s.root+`/auth/token"`) ||
				!strings.Contains(string(md.body), `"code":"SMART-on-FHIR"`) {
				t.Errorf("the CapabilityStatement does not name the token endpoint: %.400s", md.body)
			} else if _, err := fhir.DecodeResource(md.body); err != nil {
				t.Errorf("the CapabilityStatement with its security section is not valid FHIR: %v", err)
			}
			// The practice itself sees its patient and the Task it owns;
			// the auditor finds the refused Task update.
			s.as(gpA, http.MethodGet, "Patient/"+pa, nil).mustStatus(t, http.StatusOK)
			s.as(gpA, http.MethodGet, "Task/"+task, nil).mustStatus(t, http.StatusOK)
			// The trust, having sent a Task about the practice's patient,
			// may see the patient.
			s.as(trust, http.MethodGet, "Patient/"+pa, nil).mustStatus(t, http.StatusOK)
			audit := s.as(s.token("auditor"), http.MethodGet, "AuditEvent?agent=gp-b&outcome=4", nil).mustStatus(t, http.StatusOK).json(t)
			if entries, _ := audit["entry"].([]any); len(entries) < 5 {
				t.Errorf("the audit trail holds %d refused requests of gp-b, want at least 5", len(entries))
			}
		})
	}
}

// nextLink is a Bundle's next link, or "".
func nextLink(bundle map[string]any) string {
	links, _ := bundle["link"].([]any)
	for _, l := range links {
		if m, _ := l.(map[string]any); m["relation"] == "next" {
			return m["url"].(string)
		}
	}
	return ""
}

// TestRateLimitedClientGetsRetryAfter runs a client past its rate limit
// with a real token: 429, a Retry-After, an OperationOutcome; another
// client is served meanwhile.
func TestRateLimitedClientGetsRetryAfter(t *testing.T) {
	s := newSecured(t, openSQLite(t), rest.Config{RateLimit: rest.RateLimit{Limit: rest.Limit{RequestsPerSecond: 1, Burst: 2}}})
	gpA, gpB := s.token("gp-a"), s.token("gp-b")
	var last response
	for range 3 {
		last = s.as(gpB, http.MethodGet, "Patient", nil)
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("third request in a burst of 2: status %d, want 429", last.status)
	}
	if is := last.issues(t); is[0].Code != "throttled" {
		t.Errorf("issues %+v, want throttled", is)
	}
	if n, err := strconv.Atoi(last.header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("Retry-After %q, want whole seconds", last.header.Get("Retry-After"))
	}
	s.as(gpA, http.MethodGet, "Patient", nil).mustStatus(t, http.StatusOK)
}
