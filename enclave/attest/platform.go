package attest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// simulatedOU marks the certificates of a simulated platform. Evidence that chains to a root
// carrying it is simulated, whatever its report's Simulated flag says: the simulated root's
// key lives on the (untrusted) host.
const simulatedOU = "SIMULATED"

// Files of a simulated platform directory.
const (
	RootCertFile = "root.pem"
	RootKeyFile  = "root-key.pem"
)

// SimulatedPlatform stands in for SGX's attestation infrastructure (the platform's
// provisioning certificate chain and its quoting enclave) in the embedded backend. It holds a
// root CA key and certificate — SIMULATED: the key is an ordinary file or in memory, on the
// host the threat model distrusts — and a quoting key with a certificate the root issued.
// Every report it quotes is marked Simulated, with TCB status Unknown.
type SimulatedPlatform struct {
	root      *x509.Certificate
	rootKey   *ecdsa.PrivateKey
	quoteCert *x509.Certificate
	quoteKey  *ecdsa.PrivateKey
}

// NewSimulatedPlatform creates a simulated platform with a fresh root, in memory.
func NewSimulatedPlatform() (*SimulatedPlatform, error) {
	rootKey, root, err := newSimulatedRoot()
	if err != nil {
		return nil, err
	}
	return newPlatform(root, rootKey)
}

// LoadSimulatedPlatform loads the simulated platform root kept in dir (root.pem and
// root-key.pem), creating dir and a new root the first time, so that verifiers can keep
// trusting the same simulated root across runs. The quoting key is new for every call.
func LoadSimulatedPlatform(dir string) (*SimulatedPlatform, error) {
	certPath, keyPath := filepath.Join(dir, RootCertFile), filepath.Join(dir, RootKeyFile)
	keyPEM, err := os.ReadFile(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("simulated platform: %w", err)
		}
		rootKey, root, err := newSimulatedRoot()
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(rootKey)
		if err != nil {
			return nil, fmt.Errorf("simulated platform: %w", err)
		}
		keyPEM := append([]byte("reclave SIMULATED platform root key. Not a secret, not a real platform:\n"+
			"evidence chained to this root is simulated.\n\n"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})...)
		if err := writeExclusive(keyPath, keyPEM, 0o600); err != nil {
			return nil, fmt.Errorf("simulated platform: %w", err)
		}
		if err := os.WriteFile(certPath, rootPEM(root), 0o644); err != nil {
			return nil, fmt.Errorf("simulated platform: %w", err)
		}
		return newPlatform(root, rootKey)
	}
	if err != nil {
		return nil, fmt.Errorf("simulated platform: %w", err)
	}
	root, err := LoadRoot(certPath)
	if err != nil {
		return nil, fmt.Errorf("simulated platform: %w", err)
	}
	var rootKey *ecdsa.PrivateKey
	for rest := keyPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, fmt.Errorf("simulated platform: %s holds no EC PRIVATE KEY", keyPath)
		}
		if block.Type == "EC PRIVATE KEY" {
			if rootKey, err = x509.ParseECPrivateKey(block.Bytes); err != nil {
				return nil, fmt.Errorf("simulated platform: %s: %w", keyPath, err)
			}
			break
		}
	}
	if !rootKey.PublicKey.Equal(root.PublicKey) {
		return nil, fmt.Errorf("simulated platform: %s does not match %s", keyPath, certPath)
	}
	if !isSimulated(root) {
		return nil, fmt.Errorf("simulated platform: %s is not a simulated root", certPath)
	}
	return newPlatform(root, rootKey)
}

func writeExclusive(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newSimulatedRoot() (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("simulated platform root: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "reclave SIMULATED platform root", Organization: []string{"reclave"}, OrganizationalUnit: []string{simulatedOU}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("simulated platform root: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("simulated platform root: %w", err)
	}
	return key, cert, nil
}

func newPlatform(root *x509.Certificate, rootKey *ecdsa.PrivateKey) (*SimulatedPlatform, error) {
	qk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("simulated quoting key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "reclave SIMULATED quoting key", Organization: []string{"reclave"}, OrganizationalUnit: []string{simulatedOU}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              earlier(now.AddDate(1, 0, 0), root.NotAfter),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, &qk.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("simulated quoting certificate: %w", err)
	}
	qc, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("simulated quoting certificate: %w", err)
	}
	return &SimulatedPlatform{root: root, rootKey: rootKey, quoteCert: qc, quoteKey: qk}, nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n.Add(n, big.NewInt(1))
}

// Root returns the simulated platform's root certificate, which verifiers trust (or not).
func (p *SimulatedPlatform) Root() *x509.Certificate { return p.root }

// QuotingCert returns the certificate of the simulated quoting key.
func (p *SimulatedPlatform) QuotingCert() *x509.Certificate { return p.quoteCert }

// Quote signs r with the simulated quoting key, as SGX's quoting enclave would after checking
// the enclave's local report. The evidence is SIMULATED: Quote sets r.Simulated and
// r.TCBStatus = TCBUnknown whatever the caller gave.
func (p *SimulatedPlatform) Quote(r Report) (*Evidence, error) {
	r.Simulated = true
	r.TCBStatus = TCBUnknown
	raw := r.Marshal()
	digest := sha256.Sum256(raw)
	sig, err := ecdsa.SignASN1(rand.Reader, p.quoteKey, digest[:])
	if err != nil {
		return nil, fmt.Errorf("simulated quote: %w", err)
	}
	return &Evidence{Report: raw, QuotingCert: slices.Clone(p.quoteCert.Raw), Signature: sig}, nil
}

func rootPEM(c *x509.Certificate) []byte {
	label := ""
	if isSimulated(c) {
		label = "reclave SIMULATED platform root certificate. Evidence chained to it is simulated.\n\n"
	}
	return append([]byte(label), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
}

// WriteSimulatedRoot writes the simulated platform's root certificate as PEM, for a verifier
// to load with LoadRoot. Only the certificate is written, never the key.
func WriteSimulatedRoot(w io.Writer, p *SimulatedPlatform) error {
	_, err := w.Write(rootPEM(p.root))
	return err
}

// LoadRoot reads a trusted root certificate from a PEM file: the first CERTIFICATE block,
// which must be a CA.
func LoadRoot(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load root: %w", err)
	}
	c, err := ParseRoot(data)
	if err != nil {
		return nil, fmt.Errorf("load root %s: %w", path, err)
	}
	return c, nil
}

// ParseRoot parses a trusted root certificate from PEM data, as LoadRoot does.
func ParseRoot(data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			return nil, errors.New("no CERTIFICATE block")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		if !c.IsCA {
			return nil, errors.New("certificate is not a CA")
		}
		return c, nil
	}
}

// isSimulated reports whether a certificate belongs to a simulated platform.
func isSimulated(c *x509.Certificate) bool {
	return slices.Contains(c.Subject.OrganizationalUnit, simulatedOU)
}
