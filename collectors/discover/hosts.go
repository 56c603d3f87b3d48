// Package discover finds SNMP agents and Modbus TCP units on a subnet and
// says what each is: the profile chosen from its sysObjectID, its
// sysDescr and sysName, the Modbus unit ids that answer. It never floods
// a network: every packet or connection it starts waits for a Limiter
// (requests per second) and at most Concurrency hosts are probed at once.
// The result prints as a table and as a configuration snippet.
package discover

import (
	"fmt"
	"net/netip"
)

// MaxHosts is the most addresses a scan covers without Force: a /22.
const MaxHosts = 1024

// Hosts lists the addresses of a CIDR range (or one address) to probe:
// for IPv4 prefixes shorter than /31, the network and broadcast
// addresses are left out. A range of more than MaxHosts addresses is
// refused unless force is set.
func Hosts(cidr string, force bool) ([]netip.Addr, error) {
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil {
		a, aerr := netip.ParseAddr(cidr)
		if aerr != nil {
			return nil, fmt.Errorf("range %q: want an address or CIDR such as 10.1.2.0/24", cidr)
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	pfx = pfx.Masked()
	hostBits := pfx.Addr().BitLen() - pfx.Bits()
	if hostBits > 62 || (1<<hostBits > MaxHosts && !force) {
		return nil, fmt.Errorf("range %s: more than %d addresses (a /22): scan a smaller range, or add --force", pfx, MaxHosts)
	}
	n := 1 << hostBits
	out := make([]netip.Addr, 0, n)
	a := pfx.Addr()
	for i := 0; i < n; i++ {
		out = append(out, a)
		a = a.Next()
	}
	if pfx.Addr().Is4() && hostBits >= 2 {
		out = out[1 : len(out)-1]
	}
	return out, nil
}
