// Package auth authenticates the clients of the gateway: it verifies bearer
// access tokens (JWTs signed with asymmetric keys only), runs the SMART
// backend services token endpoint (client_credentials with a signed client
// assertion), holds the gateway's rotating signing keys and publishes them as
// a JWKS, and parses and checks SMART scopes (v1 and v2).
//
// It decides who a request speaks for (a Principal: client, organisation,
// side, scopes); what that organisation may see is the Gateway's policy. It
// uses net/http only to fetch JSON Web Key Sets; it imports no HTTP framework
// and no database: once-only assertion ids are kept by a NonceStore the
// caller provides.
package auth
