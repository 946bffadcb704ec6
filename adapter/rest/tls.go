package rest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// TLSFiles are the PEM files of the server's TLS identity. With CertFile
// and KeyFile the server speaks HTTPS (TLS 1.2 or later, forward-secret
// AEAD cipher suites only); with ClientCAFile as well it requires mutual
// TLS: a client must present a certificate issued by one of those CAs. The
// files are read again when they change, at the next handshake, so a
// renewed certificate needs no restart.
type TLSFiles struct {
	CertFile     string `yaml:"cert"`
	KeyFile      string `yaml:"key"`
	ClientCAFile string `yaml:"clientCA"`
}

// Check refuses a key without a certificate, and the like.
func (f TLSFiles) Check() error {
	switch {
	case (f.CertFile == "") != (f.KeyFile == ""):
		return errors.New("TLS needs both a certificate and its key")
	case f.ClientCAFile != "" && f.CertFile == "":
		return errors.New("mutual TLS (a client CA) needs the server's own certificate and key")
	}
	return nil
}

// tls12CipherSuites are the TLS 1.2 suites offered: ECDHE key exchange and
// AEAD ciphers only. TLS 1.3 suites are not configurable, and all are sound.
var tls12CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// certificates holds the TLS configuration made from the files, and
// remakes it when they change.
type certificates struct {
	files TLSFiles
	log   *slog.Logger

	mu     sync.Mutex
	stamp  string // the files' sizes and modification times when last read
	config *tls.Config
}

// loadCertificates reads the files; they must be valid now.
func loadCertificates(files TLSFiles, log *slog.Logger) (*certificates, error) {
	if err := files.Check(); err != nil {
		return nil, err
	}
	stamp, err := files.stamp()
	if err != nil {
		return nil, err
	}
	config, err := files.load()
	if err != nil {
		return nil, err
	}
	return &certificates{files: files, log: log, stamp: stamp, config: config}, nil
}

// serverConfig is the http.Server's TLS configuration: each handshake
// takes the current one.
func (c *certificates) serverConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: c.current}
}

// current returns the configuration of the files as they are now. Files
// that changed but do not load (a renewal half copied) leave the previous
// configuration in place until they change again.
func (c *certificates) current(*tls.ClientHelloInfo) (*tls.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stamp, err := c.files.stamp()
	if err != nil || stamp == c.stamp {
		return c.config, nil
	}
	c.stamp = stamp
	config, err := c.files.load()
	if err != nil {
		c.log.Warn("the TLS files changed but do not load; still serving the previous ones", "err", err)
		return c.config, nil
	}
	c.config = config
	c.log.Info("TLS files reloaded", "cert", c.files.CertFile, "client_ca", c.files.ClientCAFile)
	return c.config, nil
}

// stamp identifies the files' current contents by size and modification time.
func (f TLSFiles) stamp() (string, error) {
	var b strings.Builder
	for _, name := range []string{f.CertFile, f.KeyFile, f.ClientCAFile} {
		if name == "" {
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			return "", fmt.Errorf("TLS file: %w", err)
		}
		fmt.Fprintf(&b, "%d@%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String(), nil
}

// load reads the files into a TLS configuration.
func (f TLSFiles) load() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", f.CertFile, f.KeyFile, err)
	}
	config := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: tls12CipherSuites,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if f.ClientCAFile == "" {
		return config, nil
	}
	pem, err := os.ReadFile(f.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("TLS client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS client CA %s holds no PEM certificate", f.ClientCAFile)
	}
	config.ClientCAs = pool
	config.ClientAuth = tls.RequireAndVerifyClientCert
	return config, nil
}
