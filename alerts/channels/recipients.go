package channels

// Mobiles lists the recipients' mobile numbers, each once, in order.
func Mobiles(to []Recipient) []string {
	return unique(to, func(r Recipient) string { return r.Mobile })
}

// WeComUsers lists the recipients' WeCom user ids, each once, in order.
func WeComUsers(to []Recipient) []string {
	return unique(to, func(r Recipient) string { return r.WeComUser })
}

// Emails lists the recipients' email addresses, each once, in order.
func Emails(to []Recipient) []string {
	return unique(to, func(r Recipient) string { return r.Email })
}

func unique(to []Recipient, field func(Recipient) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range to {
		if v := field(r); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
