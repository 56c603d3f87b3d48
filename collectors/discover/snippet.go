package discover

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// Snippet writes the devices found as a YAML `devices:` list to paste
// under a room of the configuration. Secrets are never written: an SNMP
// device reads its community or v3 passwords from the environment
// variables named in a comment. A device no profile fits is written as
// comment lines, to be completed by hand.
func Snippet(w io.Writer, found []Found, set profiles.Set) {
	if len(found) == 0 {
		fmt.Fprintln(w, "devices: []  # 未发现设备 nothing answered")
		return
	}
	fmt.Fprintln(w, "devices:")
	for i := range found {
		f := &found[i]
		switch {
		case f.Identity != nil && f.Identity.Profile != nil:
			p := f.Identity.Profile
			fmt.Fprintf(w, "  # %s; %s\n", oneLine(f.Identity.SysDescr), f.Identity.Why)
			fmt.Fprintf(w, "  - name: %s\n", deviceName(p.Class, f))
			fmt.Fprintf(w, "    profile: %s\n", p.Name)
			fmt.Fprintf(w, "    url: %q\n", snmpURL(f.Target))
			secretsComment(w, f.Target)
		case f.Identity != nil:
			fmt.Fprintf(w, "  # %s (%s): %s; write a profile for it, or name one\n", snmpURL(f.Target), oneLine(f.Identity.SysDescr), f.Identity.Why)
		default:
			if len(f.Units) == 0 {
				fmt.Fprintf(w, "  # %s: Modbus TCP port open, no unit id answered\n", f.Target.Host)
				continue
			}
			choices := strings.Join(modbusProfiles(set), ", ")
			for _, u := range f.Units {
				t := f.Target
				t.Unit = u
				fmt.Fprintf(w, "  # %s unit %d answers; a Modbus unit does not say what it is: set profile to one of %s\n", t.Host, u, choices)
				fmt.Fprintf(w, "  - name: %s\n", deviceName("modbus", f)+fmt.Sprintf("-u%d", u))
				fmt.Fprintf(w, "    profile: \"\"\n")
				fmt.Fprintf(w, "    url: %q\n", t.String())
			}
		}
	}
}

// deviceName makes a configuration name (lower case, digits, - and _)
// from the class and address: ups-10-1-2-3.
func deviceName(class string, f *Found) string {
	return class + "-" + strings.NewReplacer(".", "-", ":", "-").Replace(f.Addr.String())
}

func snmpURL(t collectors.Target) string {
	host, port, _ := net.SplitHostPort(t.Host)
	if port == "161" {
		port = ""
	} else {
		port = ":" + port
	}
	if t.Version == "3" {
		q := "version=3"
		if t.Auth != "" {
			q += "&auth=" + t.Auth
		}
		if t.Priv != "" {
			q += "&priv=" + t.Priv
		}
		return fmt.Sprintf("snmp://%s@%s%s?%s", t.User, host, port, q)
	}
	return fmt.Sprintf("snmp://%s%s?version=%s", host, port, t.Version)
}

func secretsComment(w io.Writer, t collectors.Target) {
	switch {
	case t.Version == "3":
		fmt.Fprintf(w, "    auth_password: {env: %s}\n", collectors.EnvAuthPass)
		if t.Priv != "" {
			fmt.Fprintf(w, "    priv_password: {env: %s}\n", collectors.EnvPrivPass)
		}
	case t.Community != "public":
		fmt.Fprintf(w, "    community: {env: %s}\n", collectors.EnvCommunity)
	}
}

func modbusProfiles(set profiles.Set) []string {
	var out []string
	for _, n := range set.Names() {
		if set[n].Protocol == "modbus" {
			out = append(out, n)
		}
	}
	return out
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "no sysDescr"
	}
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}
