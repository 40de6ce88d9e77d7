package l0

import (
	"encoding/binary"
	"fmt"

	"github.com/reclave/reclave/enclave/attest"
)

// Layout of a monitor's vault page.
const (
	offScalar = 0                             // the L0 key's private scalar
	offEpoch  = offScalar + attest.ScalarSize // the last epoch signed (u64, little-endian)
	offFlags  = offEpoch + 8                  // flagSigned, flagResetting
)

const (
	flagSigned    = 1 << 0 // an inner report was signed: offEpoch holds its epoch
	flagResetting = 1 << 1 // the enclave resets after every invocation: an epoch never repeats
)

// Monitor is an enclave's L0: its attestation key, whose private half lives in a [Vault],
// and the epochs it signed. It is not safe for concurrent use.
type Monitor struct {
	key   *attest.L0Key
	vault *Vault
}

// NewMonitor generates the enclave's L0 key and seals its private half in a new vault (one
// gate), protected unless protect is false. resetting says the enclave resets after every
// invocation, so that no epoch may be signed twice.
func NewMonitor(protect, resetting bool) (*Monitor, error) {
	v, err := NewVault(protect)
	if err != nil {
		return nil, err
	}
	m, err := newMonitor(v, resetting)
	if err != nil {
		v.Close()
		return nil, err
	}
	return m, nil
}

// newMonitor generates an L0 key and seals it in v.
func newMonitor(v *Vault, resetting bool) (*Monitor, error) {
	key, err := attest.NewL0Key()
	if err != nil {
		return nil, err
	}
	err = v.Gate(func(page []byte) error {
		if resetting {
			page[offFlags] |= flagResetting
		}
		return key.Seal(func(scalar []byte) error {
			copy(page[offScalar:offEpoch], scalar)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("l0 monitor: %w", err)
	}
	return &Monitor{key: key, vault: v}, nil
}

// Key returns the L0 key, sealed: its public half (for the outer evidence and bundles).
func (m *Monitor) Key() *attest.L0Key { return m.key }

// SignInner signs an inner report in one gate, after checking its epoch against the last
// one signed: lower is refused, and so is equal for a resetting enclave (see the package
// documentation).
func (m *Monitor) SignInner(f attest.InnerFields) (attest.InnerReport, error) {
	var r attest.InnerReport
	err := m.vault.Gate(func(page []byte) error {
		last, flags := binary.LittleEndian.Uint64(page[offEpoch:]), page[offFlags]
		if flags&flagSigned != 0 {
			switch {
			case f.Epoch < last:
				return fmt.Errorf("l0: epoch %d is before the last one signed, %d: the runtime's reset count went backwards", f.Epoch, last)
			case f.Epoch == last && flags&flagResetting != 0:
				return fmt.Errorf("l0: epoch %d was signed already: no reset since the last attested invocation", f.Epoch)
			}
		}
		var err error
		if r, err = m.key.SignInnerWith(page[offScalar:offEpoch], f); err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(page[offEpoch:], f.Epoch)
		page[offFlags] |= flagSigned
		return nil
	})
	return r, err
}

// Crossings returns how many gates the monitor has run (one at creation, one per report).
func (m *Monitor) Crossings() uint64 { return m.vault.Crossings() }

// Mechanism returns how the monitor's gate reaches its vault.
func (m *Monitor) Mechanism() Mechanism { return m.vault.Mechanism() }

// Vault returns the monitor's vault, for tests that check its protection.
func (m *Monitor) Vault() *Vault { return m.vault }

// Close erases and unmaps the vault.
func (m *Monitor) Close() error { return m.vault.Close() }
