package attest

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// Challenge is a TPM2_MakeCredential result: a secret only the TPM holding
// both the EK and a key with the given name can recover.
type Challenge struct {
	CredentialBlob []byte
	EncryptedSeed  []byte
}

// MakeChallenge encrypts secret to ekPub, bound to keyName (done in software,
// by whoever enrols the key).
func MakeChallenge(ekPub *tpm2.TPMTPublic, keyName []byte, secret []byte) (*Challenge, error) {
	ek, err := tpm2.ImportEncapsulationKey(ekPub)
	if err != nil {
		return nil, fmt.Errorf("credential challenge: EK: %w", err)
	}
	blob, seed, err := tpm2.CreateCredential(rand.Reader, ek, keyName, secret)
	if err != nil {
		return nil, fmt.Errorf("credential challenge: %w", err)
	}
	return &Challenge{CredentialBlob: blob, EncryptedSeed: seed}, nil
}

// Activate answers a challenge inside the TPM: the EK (TCG default policy,
// PolicySecret on the endorsement hierarchy) decrypts it only for a key with
// the bound name loaded in the same TPM.
func Activate(t transport.TPM, ek tpm2.NamedHandle, key tpm2.NamedHandle, c *Challenge) ([]byte, error) {
	sess, closeSess, err := tpm2.PolicySession(t, tpm2.TPMAlgSHA256, 16)
	if err != nil {
		return nil, fmt.Errorf("activate credential: policy session: %w", err)
	}
	defer closeSess()
	_, err = tpm2.PolicySecret{
		AuthHandle:    tpm2.AuthHandle{Handle: tpm2.TPMRHEndorsement, Auth: tpm2.PasswordAuth(nil)},
		PolicySession: sess.Handle(),
		NonceTPM:      sess.NonceTPM(),
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("activate credential: policy secret: %w", err)
	}
	rsp, err := tpm2.ActivateCredential{
		ActivateHandle: tpm2.AuthHandle{Handle: key.Handle, Name: key.Name, Auth: tpm2.PasswordAuth(nil)},
		KeyHandle:      tpm2.AuthHandle{Handle: ek.Handle, Name: ek.Name, Auth: sess},
		CredentialBlob: tpm2.TPM2BIDObject{Buffer: c.CredentialBlob},
		Secret:         tpm2.TPM2BEncryptedSecret{Buffer: c.EncryptedSeed},
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("activate credential: %w", err)
	}
	return rsp.CertInfo.Buffer, nil
}

// ProveResidency runs a full challenge-response: it succeeds only if key is
// resident in the TPM that holds the EK ekPub (at handle ek).
func ProveResidency(t transport.TPM, ek tpm2.NamedHandle, ekPub *tpm2.TPMTPublic, key tpm2.NamedHandle) error {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	c, err := MakeChallenge(ekPub, key.Name.Buffer, secret)
	if err != nil {
		return err
	}
	got, err := Activate(t, ek, key, c)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, secret) != 1 {
		return errors.New("activate credential: TPM returned a different secret")
	}
	return nil
}
