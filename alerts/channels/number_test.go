package channels

import "testing"

func TestPhoneNumber(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000":        "13800138000",
		"+86 138-0013-8000":  "+8613800138000",
		"008613800138000":    "+8613800138000",
		"(010) 6552.9988":    "01065529988",
		"10086":              "10086",
		"+86 138 0013 8000 ": "+8613800138000",
	} {
		if got, err := PhoneNumber(in); err != nil || got != want {
			t.Errorf("PhoneNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "+", "12", "138abc", "++86138", "123456789012345678901"} {
		if got, err := PhoneNumber(bad); err == nil {
			t.Errorf("PhoneNumber(%q) = %q, want an error", bad, got)
		}
	}
}
