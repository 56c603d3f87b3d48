package patrol

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A room code's token is "<site>~<room>~<expiry unix>.<HMAC-SHA256>",
// base64url, signed with the screen's key: whoever holds a valid token
// has seen the code posted in that room (or a copy of it: the presence
// mark is evidence, not proof against a photocopy). Tokens expire, so
// codes are reprinted.

// ErrBadToken is any token that does not verify.
var ErrBadToken = errors.New("invalid or expired room code")

// loadKey reads the token key, generating it at first start.
func loadKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(k) < 32 {
			return nil, fmt.Errorf("%s: not a hex key of at least 32 bytes", path)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

func mac(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("roomwatch-patrol-room-code\x00" + payload))
	return h.Sum(nil)
}

// roomToken makes the token of site/room valid until exp.
func roomToken(key []byte, site, room string, exp time.Time) string {
	payload := site + "~" + room + "~" + strconv.FormatInt(exp.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(mac(key, payload))
}

// parseToken verifies a token at now and returns its site and room.
func parseToken(key []byte, token string, now time.Time) (site, room string, exp time.Time, err error) {
	enc := base64.RawURLEncoding
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return "", "", exp, ErrBadToken
	}
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(key, string(payload))) {
		return "", "", exp, ErrBadToken
	}
	parts := strings.Split(string(payload), "~")
	if len(parts) != 3 {
		return "", "", exp, ErrBadToken
	}
	sec, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", "", exp, ErrBadToken
	}
	exp = time.Unix(sec, 0)
	if !now.Before(exp) {
		return "", "", exp, ErrBadToken
	}
	return parts[0], parts[1], exp, nil
}
