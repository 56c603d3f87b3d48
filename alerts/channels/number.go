package channels

import (
	"fmt"
	"strings"
)

// PhoneNumber returns a phone number as digits, with a leading + when it is
// international ("+86 138-0013-8000" → "+8613800138000", "0086…" →
// "+86…"), or an error naming what is wrong with it.
func PhoneNumber(s string) (string, error) {
	in := s
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	plus := strings.HasPrefix(s, "+")
	s = strings.TrimPrefix(s, "+")
	if !plus && strings.HasPrefix(s, "00") {
		plus, s = true, s[2:]
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return "", fmt.Errorf("%q is not a phone number (digits, optionally with a leading +)", in)
	}
	if len(s) < 3 || len(s) > 20 {
		return "", fmt.Errorf("%q is not a phone number (3 to 20 digits)", in)
	}
	if plus {
		return "+" + s, nil
	}
	return s, nil
}
