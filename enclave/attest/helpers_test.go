package attest_test

import (
	"encoding/pem"
	"os"
)

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
